/**
 * Sample-layout benchmark: the head + Gorilla-chunk layout of SampleStore against narrow
 * (series_id, time, value) rows with a btree, on the reference fleet (bench/fleet.mjs).
 *
 *   node tools/register.js libs/storage/bench/layout.bench.ts [--scrapes 60] [--nodes 125] [--reads 5]
 *
 * A: ingest N scrapes of the whole fleet (125 batches of 220 series per scrape) until queryable,
 *    1 writer then 2 writers; compaction; bytes/sample. Narrow rows: COPY of the same samples.
 * B: 6 h of DCGM_FI_DEV_GPU_UTIL for 1,000 GPUs (1,440 points each); the 6 h read of all of
 *    them, avg by (Hostname) in JS, against the same read and a SQL GROUP BY over narrow rows.
 * C: bytes/sample of every metric kind with full 2 h chunks (10 nodes × 480 scrapes).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Pool } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { MetricsBatchV1 } from '@arcwatch/contracts';
import { BENCH_DIR, createTestDatabase } from '@arcwatch/testing';
import { SampleStore, createPool, migrate, sampleStoreMigrations } from '@arcwatch/storage';
import { fleetScrapeBatches, type FleetLike } from '../src/testing/exposition-batches';
import { createNarrowTable, narrowBytes, narrowHostAvg, narrowRead } from './narrow-baseline.repository';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const SCRAPES = Number(args.get('scrapes') ?? 60);
const NODES = Number(args.get('nodes') ?? 125);
const READS = Number(args.get('reads') ?? 5);
const STEP_MS = 15_000;

type FleetCtor = new (o: { nodes: number; seed?: number }) => FleetLike;

async function loadFleet(): Promise<FleetCtor> {
  // fleet.mjs is ESM with top-level await; the swc build turns import() into require(), so the
  // dynamic import is kept out of its sight.
  const dynamicImport = new Function('u', 'return import(u)') as (u: string) => Promise<{ Fleet: FleetCtor }>;
  return (await dynamicImport(pathToFileURL(path.join(BENCH_DIR, 'fleet.mjs')).href)).Fleet;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function storeFor(pool: Pool, schema: string): Promise<SampleStore> {
  await migrate(pool, { schema, migrations: sampleStoreMigrations(schema) });
  return new SampleStore(pool, { schema });
}

function narrowCopyText(batches: readonly MetricsBatchV1[], idOf: (b: MetricsBatchV1, i: number) => number): string {
  const lines: string[] = [];
  for (const b of batches) {
    b.series.forEach((s, i) => {
      const id = idOf(b, i);
      for (const [t, v] of s.samples)
        lines.push(
          `${id}\t${new Date(t).toISOString()}\t${typeof v === 'number' ? v : v === 'stale' ? 'NaN' : v === '+Inf' ? 'Infinity' : v === '-Inf' ? '-Infinity' : 'NaN'}\n`,
        );
    });
  }
  return lines.join('');
}

async function copyNarrow(pool: Pool, table: string, text: string): Promise<void> {
  const client = await pool.connect();
  try {
    await pipeline(Readable.from([text]), client.query(copyFrom(`COPY ${table} (series_id, time, value) FROM STDIN`)));
  } finally {
    client.release();
  }
}

async function phaseA(pool: Pool, Fleet: FleetCtor): Promise<Record<string, number>> {
  const fleet = new Fleet({ nodes: NODES, seed: 1 });
  const end = Math.floor(Date.now() / STEP_MS) * STEP_MS - 10 * 60_000;
  const scrapes: MetricsBatchV1[][] = [];
  for (let k = 0; k < SCRAPES; k++) {
    fleet.step(15);
    scrapes.push(fleetScrapeBatches(fleet, end - (SCRAPES - 1 - k) * STEP_MS));
  }
  const perScrape = scrapes[0]!.reduce((a, b) => a + b.series.length, 0);
  const store = await storeFor(pool, 'layout_a');
  let t0 = performance.now();
  await store.appendBatches(scrapes[0]!); // the first scrape also creates the catalog
  const catalogMs = performance.now() - t0;
  const half = 1 + Math.floor((SCRAPES - 1) / 2);
  t0 = performance.now();
  for (let k = 1; k < half; k++) await store.appendBatches(scrapes[k]!);
  const oneWriterMs = performance.now() - t0;
  // two writers: two stores (two catalog caches, as two processes would have) sharing the work
  const other = new SampleStore(pool, { schema: 'layout_a' });
  await other.appendBatches(scrapes[0]!);
  t0 = performance.now();
  const queue = scrapes.slice(half);
  await Promise.all(
    [store, other].map(async (s) => {
      for (let b = queue.shift(); b; b = queue.shift()) await s.appendBatches(b);
    }),
  );
  const twoWriterMs = performance.now() - t0;
  t0 = performance.now();
  const compacted = await store.compact(0);
  const compactMs = performance.now() - t0;
  await pool.query('VACUUM ANALYZE layout_a.head, layout_a.batch_log, layout_a.chunks');
  const stats = await store.stats();

  await createNarrowTable(pool, 'narrow_a');
  const ids = new Map<string, number>();
  const idOf = (b: MetricsBatchV1, i: number) => {
    const key = JSON.stringify(b.series[i]!.labels);
    let id = ids.get(key);
    if (id === undefined) ids.set(key, (id = ids.size + 1));
    return id;
  };
  const texts = scrapes.map((s) => narrowCopyText(s, idOf));
  t0 = performance.now();
  for (const t of texts) await copyNarrow(pool, 'narrow_a', t);
  const narrowMs = performance.now() - t0;
  const narrowSize = await narrowBytes(pool, 'narrow_a');
  return {
    samplesPerScrape: perScrape,
    catalogScrapeMs: catalogMs,
    ingest1Writer: ((half - 1) * perScrape) / (oneWriterMs / 1000),
    ingest2Writers: ((SCRAPES - half) * perScrape) / (twoWriterMs / 1000),
    compactSamplesPerSec: compacted.samples / (compactMs / 1000),
    compactMs,
    bytesPerSample: stats.bytes / stats.samples,
    storedSamples: stats.samples,
    narrowCopyRowsPerSec: (SCRAPES * perScrape) / (narrowMs / 1000),
    narrowBytesPerSample: narrowSize / (SCRAPES * perScrape),
  };
}

async function phaseB(pool: Pool, Fleet: FleetCtor): Promise<Record<string, number>> {
  const fleet = new Fleet({ nodes: NODES, seed: 2 });
  const steps = 6 * 240;
  const end = Math.floor(Date.now() / STEP_MS) * STEP_MS - 10 * 60_000;
  const start = end - (steps - 1) * STEP_MS;
  const util = fleet.series.filter((s) => s.name === 'DCGM_FI_DEV_GPU_UTIL');
  const values = util.map(() => new Float64Array(steps));
  for (let k = 0; k < steps; k++) {
    fleet.step(15);
    util.forEach((s, i) => (values[i]![k] = fleet.values[s.id]!));
  }
  // backfill as hourly imports per node: 8 series × 240 samples per batch
  const batches: MetricsBatchV1[] = [];
  for (let h = 0; h < 6; h++) {
    for (let n = 0; n < NODES; n++) {
      const series = util.flatMap((s, i) =>
        s.node !== n
          ? []
          : [
              {
                labels: { __name__: s.name, job: 'fleet', ...s.fullLabels },
                samples: Array.from({ length: 240 }, (_, j): [number, number] => [
                  start + (h * 240 + j) * STEP_MS,
                  values[i]![h * 240 + j]!,
                ]),
              },
            ],
      );
      batches.push({
        batchId: `util/${n}/${h}`,
        source: 'import',
        cluster: 'bench',
        node: String(n),
        target: { job: 'fleet', instance: String(n) },
        scrapedAtMs: start,
        series,
      });
    }
  }
  const store = await storeFor(pool, 'layout_b');
  for (let i = 0; i < batches.length; i += 125) await store.appendBatches(batches.slice(i, i + 125));
  await store.compact(0);
  await pool.query('VACUUM ANALYZE layout_b.chunks, layout_b.head');
  const stats = await store.stats();
  const chunkBytes = Number(
    (
      await pool.query<{ b: string }>(
        `SELECT sum(pg_total_relation_size(relid)) AS b FROM pg_partition_tree('layout_b.chunks')`,
      )
    ).rows[0]!.b,
  );
  const readMs: number[] = [];
  let hosts = 0;
  for (let r = 0; r < READS; r++) {
    const t0 = performance.now();
    const data = await store.select(
      [{ name: '__name__', type: '=', value: 'DCGM_FI_DEV_GPU_UTIL' }],
      end - 6 * 3_600_000,
      end,
    );
    // avg by (Hostname) at each stored step: what the PromQL engine will do over this data
    const sums = new Map<string, Float64Array>();
    for (const s of data) {
      const acc = sums.get(s.labels.Hostname!) ?? new Float64Array(steps);
      for (let i = 0; i < s.values.length; i++) acc[i]! += s.values[i]!;
      sums.set(s.labels.Hostname!, acc);
    }
    hosts = sums.size;
    readMs.push(performance.now() - t0);
    if (data.length !== util.length || data[0]!.timestamps.length !== steps)
      throw new Error(`read returned ${data.length} series`);
  }

  await createNarrowTable(pool, 'narrow_b');
  const rows = util.flatMap((_, i) =>
    Array.from(
      { length: steps },
      (_, k) => `${i + 1}\t${new Date(start + k * STEP_MS).toISOString()}\t${values[i]![k]}\n`,
    ),
  );
  await copyNarrow(pool, 'narrow_b', rows.join(''));
  await pool.query('VACUUM ANALYZE narrow_b');
  const ids = util.map((_, i) => i + 1);
  const narrowReadMs: number[] = [];
  const narrowSqlMs: number[] = [];
  const hostOf = util.map((s) => s.fullLabels.Hostname!);
  for (let r = 0; r < READS; r++) {
    let t0 = performance.now();
    await narrowRead(pool, 'narrow_b', ids, end - 6 * 3_600_000, end);
    narrowReadMs.push(performance.now() - t0);
    t0 = performance.now();
    await narrowHostAvg(pool, 'narrow_b', hostOf, end - 6 * 3_600_000, end);
    narrowSqlMs.push(performance.now() - t0);
  }
  return {
    series: util.length,
    pointsPerSeries: steps,
    hosts,
    readMedianMs: median(readMs),
    chunkBytesPerSample: chunkBytes / stats.samples,
    storeBytesPerSample: stats.bytes / stats.samples,
    narrowReadMedianMs: median(narrowReadMs),
    narrowSqlAvgByHostMedianMs: median(narrowSqlMs),
    narrowBytesPerSample: (await narrowBytes(pool, 'narrow_b')) / (util.length * steps),
  };
}

async function phaseC(pool: Pool, Fleet: FleetCtor): Promise<Record<string, number>> {
  const fleet = new Fleet({ nodes: 10, seed: 3 });
  const steps = 480;
  // aligned to a 2 h bucket, so every chunk is full
  const start = Math.floor(Date.now() / 7_200_000) * 7_200_000 - 4 * 3_600_000;
  const store = await storeFor(pool, 'layout_c');
  for (let k = 0; k < steps; k++) {
    fleet.step(15);
    await store.appendBatches(fleetScrapeBatches(fleet, start + k * STEP_MS));
  }
  await store.compact(0);
  // compaction rewrites a chunk once per 1,000 head rows; measure after vacuum, as in steady state
  await pool.query('VACUUM ANALYZE layout_c.head, layout_c.chunks');
  const stats = await store.stats();
  const chunkBytes = Number(
    (
      await pool.query<{ b: string }>(
        `SELECT sum(pg_total_relation_size(relid)) AS b FROM pg_partition_tree('layout_c.chunks')`,
      )
    ).rows[0]!.b,
  );
  const encoded = Number(
    (await pool.query<{ b: string }>(`SELECT sum(octet_length(data)) AS b FROM layout_c.chunks`)).rows[0]!.b,
  );
  return {
    series: stats.series,
    samples: stats.samples,
    encodedBytesPerSample: encoded / stats.samples,
    chunkTableBytesPerSample: chunkBytes / stats.samples,
    storeBytesPerSample: stats.bytes / stats.samples,
  };
}

async function main(): Promise<void> {
  const Fleet = await loadFleet();
  const db = await createTestDatabase();
  const pool = createPool(db.url, { max: 4 });
  try {
    const t0 = performance.now();
    const a = await phaseA(pool, Fleet);
    console.log(
      'A ingest (%d scrapes × %d nodes)',
      SCRAPES,
      NODES,
      Object.fromEntries(Object.entries(a).map(([k, v]) => [k, fmt(v, 2)])),
    );
    const b = await phaseB(pool, Fleet);
    console.log('B 6 h read', Object.fromEntries(Object.entries(b).map(([k, v]) => [k, fmt(v, 2)])));
    const c = await phaseC(pool, Fleet);
    console.log('C full chunks', Object.fromEntries(Object.entries(c).map(([k, v]) => [k, fmt(v, 2)])));
    console.log('total %s s', fmt((performance.now() - t0) / 1000, 1));
  } finally {
    await pool.end();
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
