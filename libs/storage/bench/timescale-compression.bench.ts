/**
 * Bytes per sample of the fleet mix on TimescaleDB, with and without native compression, beside
 * the same store on plain PostgreSQL (native daily partitions) fed the same scrapes in the same
 * run. Needs TEST_TIMESCALE_URL (tools/timescaledb-test-cluster.sh); the plain store goes to
 * TEST_DATABASE_URL (default: the PostgreSQL on 5432).
 *
 *   node tools/register.js libs/storage/bench/timescale-compression.bench.ts [--nodes 10] [--hours 24] [--compact-every 40] [--reads 5]
 *
 * One UTC day three days back, scraped every 15 s (the reference fleet, bench/fleet.mjs: 220
 * series per node), appended to both stores scrape by scrape and compacted every
 * `--compact-every` scrapes (the writer's cadence is every 4 at the defaults; fewer rewrites here
 * keep the run short, so the churn measured is below the service's), each compaction followed by
 * a VACUUM (autovacuum keeping up), then VACUUM ANALYZE. Measured: the
 * encoded chunk payload, the chunk table on disk and the whole store (stats().bytes: chunks,
 * indexes, TOAST, head, catalog, batch log) per sample; on TimescaleDB before and after the
 * compression policy's job runs (it compresses day chunks that ended a day ago); and the read of
 * 6 h of DCGM_FI_DEV_GPU_UTIL for every GPU with the chunk cache off, median of `--reads`.
 */
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Pool } from 'pg';
import {
  BENCH_DIR,
  TEST_TIMESCALE_URL,
  createTestDatabase,
  createTimescaleTestDatabase,
  type TestDatabase,
} from '@arcwatch/testing';
import { SampleStore, createPool, migrate, sampleStoreMigrations } from '@arcwatch/storage';
import { fleetScrapeBatches, type FleetLike } from '../src/testing/exposition-batches';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const NODES = Number(args.get('nodes') ?? 10);
const HOURS = Number(args.get('hours') ?? 24);
const COMPACT_EVERY = Number(args.get('compact-every') ?? 40);
const READS = Number(args.get('reads') ?? 5);
const STEP_MS = 15_000;
const DAY_MS = 86_400_000;
const SCHEMA = 'bench';

type FleetCtor = new (o: { nodes: number; seed?: number }) => FleetLike;

async function loadFleet(): Promise<FleetCtor> {
  const dynamicImport = new Function('u', 'return import(u)') as (u: string) => Promise<{ Fleet: FleetCtor }>;
  return (await dynamicImport(pathToFileURL(path.join(BENCH_DIR, 'fleet.mjs')).href)).Fleet;
}

const fmt = (n: number, d = 2) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Side {
  name: string;
  db: TestDatabase;
  pool: Pool;
  store: SampleStore;
  reader: SampleStore;
}

async function side(name: string, db: TestDatabase): Promise<Side> {
  const pool = createPool(db.url, { max: 4 });
  await migrate(pool, { schema: SCHEMA, migrations: sampleStoreMigrations(SCHEMA) });
  return {
    name,
    db,
    pool,
    store: new SampleStore(pool, { schema: SCHEMA }),
    reader: new SampleStore(pool, { schema: SCHEMA, chunkCacheBytes: 0 }),
  };
}

async function one<T>(pool: Pool, sql: string): Promise<T> {
  return (await pool.query(sql)).rows[0] as T;
}

/** Bytes of the chunk table: its partitions, or a hypertable's chunks (compressed or not). */
async function chunkTableBytes(s: Side, hypertable: boolean): Promise<number> {
  const sql = hypertable
    ? `SELECT hypertable_size('${SCHEMA}.chunks') AS b`
    : `SELECT sum(pg_total_relation_size(relid)) AS b FROM pg_partition_tree('${SCHEMA}.chunks')`;
  return Number((await one<{ b: string }>(s.pool, sql)).b);
}

interface Measured {
  encodedBPS: number;
  chunkTableBPS: number;
  storeBPS: number;
  read6hMs: number;
  readPoints: number;
  /** Bytes on disk of the store's other tables (with indexes and TOAST). */
  others: Record<string, number>;
}

async function measure(
  s: Side,
  hypertable: boolean,
  samples: number,
  readFrom: number,
  readTo: number,
): Promise<Measured> {
  const stats = await s.store.stats();
  if (stats.samples !== samples) throw new Error(`${s.name}: ${stats.samples} samples stored, ${samples} sent`);
  const encoded = Number(
    (await one<{ b: string }>(s.pool, `SELECT sum(octet_length(data)) AS b FROM ${SCHEMA}.chunks`)).b,
  );
  const readMs: number[] = [];
  let points = 0;
  for (let r = 0; r < READS; r++) {
    const t0 = performance.now();
    const data = await s.reader.select(
      [{ name: '__name__', type: '=', value: 'DCGM_FI_DEV_GPU_UTIL' }],
      readFrom,
      readTo,
    );
    readMs.push(performance.now() - t0);
    points = data.reduce((a, d) => a + d.timestamps.length, 0);
  }
  const others: Record<string, number> = {};
  for (const t of ['head', 'batch_log', 'series', 'metadata', 'exemplars'])
    others[t] = Number((await one<{ b: string }>(s.pool, `SELECT pg_total_relation_size('${SCHEMA}.${t}') AS b`)).b);
  return {
    others,
    encodedBPS: encoded / samples,
    chunkTableBPS: (await chunkTableBytes(s, hypertable)) / samples,
    storeBPS: stats.bytes / samples,
    read6hMs: median(readMs),
    readPoints: points,
  };
}

async function main(): Promise<void> {
  if (!TEST_TIMESCALE_URL)
    throw new Error('TEST_TIMESCALE_URL is not set: start a TimescaleDB cluster (tools/timescaledb-test-cluster.sh)');
  const Fleet = await loadFleet();
  const fleet = new Fleet({ nodes: NODES, seed: 1 });
  const day = Math.floor(Date.now() / DAY_MS) * DAY_MS - 3 * DAY_MS;
  const scrapes = Math.floor((HOURS * 3_600_000) / STEP_MS);
  const sides = [await side('PostgreSQL 15', await createTestDatabase())];
  sides.push(await side('TimescaleDB 2.28.3', await createTimescaleTestDatabase()));
  // the policy's job runs once below, when the day is loaded: scheduled, it could start on the
  // three-day-old day mid-load (its lock and a compaction's deadlock; one of them is retried)
  const job = await one<{ job_id: number }>(
    sides[1]!.pool,
    `SELECT job_id FROM timescaledb_information.jobs WHERE hypertable_schema = '${SCHEMA}' AND proc_name = 'policy_compression'`,
  );
  await sides[1]!.pool.query(`SELECT alter_job(${job.job_id}, scheduled => false)`);
  const version = await one<{ v: string }>(
    sides[1]!.pool,
    `SELECT extversion AS v FROM pg_extension WHERE extname = 'timescaledb'`,
  );
  try {
    const load = os.loadavg();
    const started = performance.now();
    let samples = 0;
    for (let k = 0; k < scrapes; k++) {
      fleet.step(15);
      const batches = fleetScrapeBatches(fleet, day + k * STEP_MS);
      for (const b of batches) samples += b.series.length;
      for (const s of sides) await s.store.appendBatches(batches);
      if ((k + 1) % COMPACT_EVERY === 0 || k === scrapes - 1)
        for (const s of sides) {
          await s.store.compact(0);
          // what autovacuum does between compactions when it keeps up; explicit, so that the two
          // servers' autovacuum settings (the shared one runs without) do not decide the figures
          await s.pool.query(
            `VACUUM ${SCHEMA}.chunks, ${SCHEMA}.head, ${SCHEMA}.batch_log, ${SCHEMA}.series, ${SCHEMA}.series_ranges`,
          );
        }
    }
    const loadMs = performance.now() - started;
    for (const s of sides)
      await s.pool.query(
        `VACUUM ANALYZE ${SCHEMA}.chunks, ${SCHEMA}.head, ${SCHEMA}.batch_log, ${SCHEMA}.series, ${SCHEMA}.series_ranges`,
      );
    const readFrom = day + 12 * 3_600_000;
    const readTo = readFrom + 6 * 3_600_000 - 1;
    const plain = await measure(sides[0]!, false, samples, readFrom, readTo);
    const uncompressed = await measure(sides[1]!, true, samples, readFrom, readTo);

    const ts = sides[1]!;
    let t0 = performance.now();
    await ts.pool.query(`CALL run_job(${job.job_id})`);
    const compressMs = performance.now() - t0;
    const chunks = await one<{ all: string; compressed: string }>(
      ts.pool,
      `SELECT count(*) AS all, count(*) FILTER (WHERE is_compressed) AS compressed
         FROM timescaledb_information.chunks WHERE hypertable_schema = '${SCHEMA}'`,
    );
    await ts.pool.query(`VACUUM ANALYZE ${SCHEMA}.chunks`);
    const compressed = await measure(ts, true, samples, readFrom, readTo);
    // a late sample into the compressed day: the upsert decompresses that series' segment
    t0 = performance.now();
    await ts.store.importHistory([
      {
        labels: {
          __name__: 'DCGM_FI_DEV_GPU_UTIL',
          job: 'fleet',
          ...fleet.series.find((s) => s.name === 'DCGM_FI_DEV_GPU_UTIL')!.fullLabels,
        },
        timestamps: Float64Array.of(day + 7_500),
        values: Float64Array.of(50),
      },
    ]);
    const lateWriteMs = performance.now() - t0;

    const rows: Array<[string, Measured]> = [
      ['PostgreSQL 15, native partitions', plain],
      ['TimescaleDB, uncompressed', uncompressed],
      ['TimescaleDB, compressed by the policy', compressed],
    ];
    console.log(
      `Run ${new Date().toISOString()}: ${NODES} nodes (${fleet.series.length} series), ${HOURS} h at 15 s = ${samples.toLocaleString('en-US')} samples per store, ` +
        `compacted and vacuumed every ${COMPACT_EVERY} scrapes; TimescaleDB ${version.v}.`,
    );
    console.log(
      `Machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model.trim()}, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB, Node ${process.version}; ` +
        `load average at the start: ${load.map((l) => l.toFixed(2)).join(' / ')}, at the end: ${os
          .loadavg()
          .map((l) => l.toFixed(2))
          .join(' / ')}.`,
    );
    console.log('');
    console.log(
      '| store | encoded payload B/sample | chunk table B/sample | whole store B/sample | 6 h read, GPU_UTIL, cache off |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const [name, r] of rows) {
      console.log(
        `| ${name} | ${fmt(r.encodedBPS)} | ${fmt(r.chunkTableBPS)} | ${fmt(r.storeBPS)} | ${fmt(r.read6hMs, 0)} ms (${r.readPoints.toLocaleString('en-US')} points) |`,
      );
    }
    console.log('');
    for (const [name, r] of rows)
      console.log(
        `${name}, the other tables: ${Object.entries(r.others)
          .map(([t, b]) => `${t} ${fmt(b / 2 ** 20, 1)} MiB`)
          .join(', ')}.`,
      );
    console.log('');
    console.log(
      `Ingest and compaction of both stores: ${fmt(loadMs / 1000, 1)} s; the compression job: ${fmt(compressMs / 1000, 1)} s ` +
        `(${chunks.compressed} of ${chunks.all} chunks compressed); one late sample into the compressed day: ${fmt(lateWriteMs, 0)} ms.`,
    );
  } finally {
    for (const s of sides) {
      await s.pool.end();
      await s.db.drop();
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
