/**
 * Compaction throughput (head → chunks) for a backlog of fleet scrapes, by transaction size.
 *
 *   node tools/register.js libs/storage/bench/compaction.bench.ts [--scrapes 240] [--nodes 125] [--rows 1000,5000]
 *                                                                 [--step-ms 15000] [--prefill-s 0] [--passes 1]
 *
 * For each value of --rows: a fresh schema, the scrapes appended (125 batches each, not timed),
 * then one timed compact(0) with that many head rows per transaction. With `--prefill-s N`, the
 * chunks of the scrapes' 2 h bucket already hold the N seconds before them (imported straight
 * into chunks, not timed): the pass the writer runs late in a bucket, which decodes and
 * re-encodes every chunk it adds to. With `--passes N`, N such passes of `--scrapes` each, timed
 * one by one: the first decodes the chunks it adds to (the store knows nothing of them yet, as
 * after a restart), the later ones append to the chunks the previous pass wrote.
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
const STEP_MS = Number(args.get('step-ms') ?? 15_000);
const PREFILL_S = Number(args.get('prefill-s') ?? 0);
const PASSES = Number(args.get('passes') ?? 1);
const BUCKET_MS = 2 * 3_600_000;

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
    // the prefill and the scrapes inside one bucket (the store's default 2 h span) that has ended
    const bucket = Math.floor((Date.now() - 3 * BUCKET_MS) / BUCKET_MS) * BUCKET_MS;
    const end =
      PREFILL_S > 0
        ? bucket + PREFILL_S * 1000 + PASSES * SCRAPES * STEP_MS
        : Math.floor(Date.now() / STEP_MS) * STEP_MS - 10 * 60_000;
    for (const rows of ROWS) {
      const fleet = new Fleet({ nodes: NODES, seed: 1 });
      const schema = `compact_${rows}`;
      await migrate(pool, { schema, migrations: sampleStoreMigrations(schema) });
      const store = new SampleStore(pool, { schema, compactRowsPerTx: rows });
      if (PREFILL_S > 0) {
        const steps = Math.floor((PREFILL_S * 1000) / STEP_MS);
        const values = fleet.series.map(() => new Float64Array(steps));
        const timestamps = Float64Array.from({ length: steps }, (_, k) => bucket + k * STEP_MS);
        for (let k = 0; k < steps; k++) {
          fleet.step(STEP_MS / 1000);
          fleet.series.forEach((s, i) => (values[i]![k] = fleet.values[s.id]!));
        }
        await store.importHistory(
          fleet.series.map((s, i) => ({
            labels: { __name__: s.name, job: 'fleet', ...s.fullLabels },
            timestamps,
            values: values[i]!,
          })),
        );
      }
      // pass 1 after a prefill decodes the chunks it adds to (as after a restart); later passes
      // append to the chunks the previous pass wrote, whose state the store kept
      let at = PREFILL_S > 0 ? bucket + PREFILL_S * 1000 + STEP_MS : end - (PASSES * SCRAPES - 1) * STEP_MS;
      for (let pass = 1; pass <= PASSES; pass++) {
        for (let k = 0; k < SCRAPES; k++) {
          fleet.step(STEP_MS / 1000);
          const batches: MetricsBatchV1[] = fleetScrapeBatches(fleet, at);
          at += STEP_MS;
          await store.appendBatches(batches);
        }
        const t0 = performance.now();
        const r = await store.compact(0);
        const ms = performance.now() - t0;
        process.stdout.write(
          `compactRowsPerTx ${rows}, pass ${pass}: ${r.samples.toLocaleString('en-US')} samples (${SCRAPES} scrapes × ${NODES} batches, ${STEP_MS / 1000} s apart, onto ${PREFILL_S + (pass - 1) * SCRAPES * (STEP_MS / 1000)} s already in the bucket's chunks) in ${(ms / 1000).toFixed(1)} s = ` +
            `${Math.round(r.samples / (ms / 1000)).toLocaleString('en-US')} samples/s; load average ${os
              .loadavg()
              .map((l) => l.toFixed(2))
              .join(' / ')}\n`,
        );
      }
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
