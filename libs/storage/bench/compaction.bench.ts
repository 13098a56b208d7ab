/**
 * Compaction throughput (head → chunks) for a backlog of fleet scrapes, by transaction size.
 *
 *   node tools/register.js libs/storage/bench/compaction.bench.ts [--scrapes 240] [--nodes 125] [--rows 1000,5000]
 *
 * For each value of --rows: a fresh schema, the scrapes appended (125 batches each, not timed),
 * then one timed compact(0) with that many head rows per transaction.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import os from 'node:os';
import type { MetricsBatchV1 } from '@arcwatch/contracts';
import { BENCH_DIR, createTestDatabase } from '@arcwatch/testing';
import { SampleStore, createPool, migrate, sampleStoreMigrations } from '@arcwatch/storage';
import { fleetScrapeBatches, type FleetLike } from '../src/testing/exposition-batches';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const SCRAPES = Number(args.get('scrapes') ?? 240);
const NODES = Number(args.get('nodes') ?? 125);
const ROWS = (args.get('rows') ?? '1000,5000').split(',').map(Number);
const STEP_MS = 15_000;

type FleetCtor = new (o: { nodes: number; seed?: number }) => FleetLike;

async function loadFleet(): Promise<FleetCtor> {
  const dynamicImport = new Function('u', 'return import(u)') as (u: string) => Promise<{ Fleet: FleetCtor }>;
  return (await dynamicImport(pathToFileURL(path.join(BENCH_DIR, 'fleet.mjs')).href)).Fleet;
}

async function main(): Promise<void> {
  const Fleet = await loadFleet();
  const db = await createTestDatabase();
  const pool = createPool(db.url, { max: 4 });
  try {
    const end = Math.floor(Date.now() / STEP_MS) * STEP_MS - 10 * 60_000;
    for (const rows of ROWS) {
      const fleet = new Fleet({ nodes: NODES, seed: 1 });
      const schema = `compact_${rows}`;
      await migrate(pool, { schema, migrations: sampleStoreMigrations(schema) });
      const store = new SampleStore(pool, { schema, compactRowsPerTx: rows });
      for (let k = 0; k < SCRAPES; k++) {
        fleet.step(15);
        const batches: MetricsBatchV1[] = fleetScrapeBatches(fleet, end - (SCRAPES - 1 - k) * STEP_MS);
        await store.appendBatches(batches);
      }
      const t0 = performance.now();
      const r = await store.compact(0);
      const ms = performance.now() - t0;
      process.stdout.write(
        `compactRowsPerTx ${rows}: ${r.samples.toLocaleString('en-US')} samples (${SCRAPES} scrapes × ${NODES} batches) in ${(ms / 1000).toFixed(1)} s = ` +
          `${Math.round(r.samples / (ms / 1000)).toLocaleString('en-US')} samples/s; load average ${os
            .loadavg()
            .map((l) => l.toFixed(2))
            .join(' / ')}\n`,
      );
    }
  } finally {
    await pool.end();
    await db.drop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
