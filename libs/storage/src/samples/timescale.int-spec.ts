import { STALE_NAN, isStaleNaN, type MetricsBatchV1 } from '@arcwatch/contracts';
import { createTimescaleTestDatabase, describeTimescale, installTimescale, type TestDatabase } from '@arcwatch/testing';
import type { Pool } from 'pg';
import { migrate } from '../migrations/migrate';
import { createPool } from '../pool';
import { SampleStore } from './sample-store';
import { sampleStoreMigrations } from './sample-store.migrations';

/**
 * The sample store on TimescaleDB (TEST_TIMESCALE_URL; skipped without it). Every other storage
 * spec also runs there when TEST_DATABASE_URL points at the same server (docs/storage.md).
 */

const DAY = 86_400_000;
const STEP = 15_000;

const dbs: TestDatabase[] = [];
const pools: Pool[] = [];

async function database(opts: { extension?: boolean } = {}): Promise<{ db: TestDatabase; pool: Pool }> {
  const db = await createTimescaleTestDatabase(opts);
  const pool = createPool(db.url, { max: 4 });
  dbs.push(db);
  pools.push(pool);
  return { db, pool };
}

afterAll(async () => {
  for (const p of pools) await p.end();
  for (const d of dbs) await d.drop();
});

/** `n` samples `STEP` apart from `from`: ratios with six decimals, a staleness marker at every 97th. */
function history(n: number, from: number, seed: number): { timestamps: Float64Array; values: Float64Array } {
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    timestamps[i] = from + i * STEP;
    values[i] = i % 97 === 96 ? STALE_NAN : Math.round(((seed * 7919 + i * 104_729) % 1_000_000) / 1e3) / 1e3;
  }
  return { timestamps, values };
}

const bits = (v: ArrayLike<number>): number[] => Array.from(new Uint32Array(Float64Array.from(v).buffer));
const all = [{ name: '__name__', type: '=~' as const, value: '.+' }];

async function jobsOf(pool: Pool, schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ proc_name: string }>(
    `SELECT proc_name FROM timescaledb_information.jobs
      WHERE hypertable_schema = $1 AND hypertable_name = 'chunks' ORDER BY proc_name`,
    [schema],
  );
  return rows.map((r) => r.proc_name);
}

async function indexesOf(pool: Pool, schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ indexname: string }>(
    `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'chunks' ORDER BY 1`,
    [schema],
  );
  return rows.map((r) => r.indexname);
}

/** The hypertable chunks of `schema.chunks`, oldest first, and whether each is compressed. */
async function chunksOf(pool: Pool, schema: string): Promise<{ name: string; start: Date; compressed: boolean }[]> {
  const { rows } = await pool.query<{ name: string; start: Date; compressed: boolean }>(
    `SELECT chunk_schema || '.' || chunk_name AS name, range_start AS start, is_compressed AS compressed
       FROM timescaledb_information.chunks
      WHERE hypertable_schema = $1 AND hypertable_name = 'chunks' ORDER BY range_start`,
    [schema],
  );
  return rows;
}

function scrape(id: string, t: number, value: number): MetricsBatchV1 {
  return {
    batchId: id,
    source: 'scrape',
    cluster: 'c',
    node: 'n',
    target: { job: 'dcgm', instance: 'n:9400' },
    scrapedAtMs: t,
    series: [{ labels: { __name__: 'DCGM_FI_DEV_GPU_UTIL', gpu: '0' }, samples: [[t, value]] }],
  };
}

describeTimescale('SampleStore on TimescaleDB', () => {
  it('starts on a store migrated before the extension was installed, which keeps its native partitions', async () => {
    const { db, pool } = await database({ extension: false });
    const migrations = sampleStoreMigrations('collector');
    expect(await migrate(pool, { schema: 'collector', migrations })).toMatchObject({ timescale: false });
    const T0 = Date.UTC(2026, 0, 5, 10, 0);
    let now = T0 + 10 * 60_000;
    const before = new SampleStore(pool, { schema: 'collector', clock: () => now });
    await before.appendBatch(scrape('before-1', T0, 41));
    await before.compact(60_000);

    await installTimescale(db.url);
    // this used to throw MIGRATION_CHECKSUM_MISMATCH: 0001 renders differently with the extension
    expect(await migrate(pool, { schema: 'collector', migrations })).toEqual({ applied: [], timescale: true });

    const after = new SampleStore(pool, { schema: 'collector', clock: () => now });
    await after.appendBatch(scrape('after-1', T0 + STEP, 42));
    now += 10 * 60_000;
    expect(await after.compact(60_000)).toEqual({ series: 1, samples: 1 });
    const [s] = await after.select(all, T0, T0 + DAY);
    expect(Array.from(s!.timestamps)).toEqual([T0, T0 + STEP]);
    expect(Array.from(s!.values)).toEqual([41, 42]);
    expect((await after.ensurePartitions({ daysAhead: 1 })).mode).toBe('native');
    expect((await after.stats()).samples).toBe(2);
  });

  it('corrects a store created by the shipped migrations: no fixed retention job, no second index, compression on', async () => {
    const { pool } = await database();
    const shipped = sampleStoreMigrations('legacy').slice(0, 2);
    await migrate(pool, { schema: 'legacy', migrations: shipped });
    // what 0001 left on a hypertable: a 30-day retention job and create_hypertable's time index
    expect(await jobsOf(pool, 'legacy')).toEqual(['policy_retention']);
    expect(await indexesOf(pool, 'legacy')).toEqual(['chunks_pkey', 'chunks_start_time_idx']);

    expect((await migrate(pool, { schema: 'legacy', migrations: sampleStoreMigrations('legacy') })).applied).toEqual([
      '0003_chunk_version_timescale_layout',
    ]);
    expect(await jobsOf(pool, 'legacy')).toEqual(['policy_compression']);
    expect(await indexesOf(pool, 'legacy')).toEqual(['chunks_pkey']);

    // and a store created now ends the same way
    await migrate(pool, { schema: 'fresh', migrations: sampleStoreMigrations('fresh') });
    expect(await jobsOf(pool, 'fresh')).toEqual(['policy_compression']);
    expect(await indexesOf(pool, 'fresh')).toEqual(['chunks_pkey']);
    const { rows } = await pool.query(
      `SELECT segmentby_column_index AS seg, orderby_column_index AS ord, attname
         FROM timescaledb_information.compression_settings
        WHERE hypertable_schema = 'fresh' AND hypertable_name = 'chunks' ORDER BY attname`,
    );
    expect(rows).toEqual([
      { seg: 1, ord: null, attname: 'series_id' },
      { seg: null, ord: 1, attname: 'start_time' },
    ]);
  });

  it('applies the configured retention only, and reports the chunks it dropped', async () => {
    const { pool } = await database();
    await migrate(pool, { schema: 'ret', migrations: sampleStoreMigrations('ret') });
    const now = Date.UTC(2026, 5, 1, 12, 0);
    const store = new SampleStore(pool, { schema: 'ret', clock: () => now });
    const days = [60, 20, 1].map((d) => Date.UTC(2026, 5, 1 - d, 6, 0));
    await store.importHistory(
      days.map((t, k) => ({ labels: { __name__: 'kept_for', age: String(k) }, ...history(240, t, k) })),
    );
    const chunks = await chunksOf(pool, 'ret');
    expect(chunks).toHaveLength(3);

    // a 90-day configuration keeps all three days; nothing else (no policy job) removes any
    expect((await store.applyRetention({ retentionDays: 90 })).droppedPartitions).toEqual([]);
    expect(await jobsOf(pool, 'ret')).not.toContain('policy_retention');
    expect(await store.select(all, 0, now)).toHaveLength(3);

    const r = await store.applyRetention({ retentionDays: 30 });
    expect(r.droppedPartitions).toEqual([chunks[0]!.name]);
    expect(r.prunedSeries).toBe(1);
    const left = await store.select(all, 0, now);
    expect(left.map((s) => s.labels.age).sort()).toEqual(['1', '2']);
  });

  it('counts the hypertable chunks in stats().bytes', async () => {
    const { pool } = await database();
    await migrate(pool, { schema: 'sized', migrations: sampleStoreMigrations('sized') });
    const t = Date.UTC(2026, 1, 2, 0, 0);
    const store = new SampleStore(pool, { schema: 'sized', clock: () => t + 2 * DAY });
    const empty = await store.stats();
    await store.importHistory(
      Array.from({ length: 40 }, (_, k) => ({ labels: { __name__: 'sized', k: String(k) }, ...history(5760, t, k) })),
    );
    const { rows } = await pool.query<{ payload: string; ht: string }>(
      `SELECT sum(octet_length(data)) AS payload, hypertable_size('sized.chunks') AS ht FROM sized.chunks`,
    );
    const stats = await store.stats();
    expect(stats.samples).toBe(40 * 5760);
    // the chunk rows' encoded bytes alone are more than the growth the old figure showed (none)
    expect(stats.bytes - empty.bytes).toBeGreaterThan(Number(rows[0]!.payload));
    expect(stats.bytes).toBeGreaterThanOrEqual(Number(rows[0]!.ht));
  });

  it('reads compressed chunks bit-exactly, notices rewrites of them and merges writes into them', async () => {
    const { pool } = await database();
    await migrate(pool, { schema: 'packed', migrations: sampleStoreMigrations('packed') });
    // the policy's job runs below, when the spec says so (on a server whose background workers
    // run, it would otherwise compress the three-day-old day whenever it first looks)
    const { rows: jobs } = await pool.query<{ job_id: number }>(
      `SELECT job_id FROM timescaledb_information.jobs
        WHERE hypertable_schema = 'packed' AND proc_name = 'policy_compression'`,
    );
    const job = jobs[0]!.job_id;
    await pool.query(`SELECT alter_job($1, scheduled => false)`, [job]);
    // dated from the real clock: the compression policy job compares chunk ranges with now()
    const today = Math.floor(Date.now() / DAY) * DAY;
    const old = today - 3 * DAY;
    let now = Date.now();
    const store = new SampleStore(pool, { schema: 'packed', clock: () => now });
    const input = Array.from({ length: 20 }, (_, k) => ({
      labels: { __name__: 'packed', k: String(k) },
      ...history(5760, old, k),
    }));
    // one day three days ago, with a gap at 06:00–08:00 that a backfill fills later
    const gapFrom = 6 * 240;
    const gapTo = 8 * 240;
    const first = input.map((s) => ({
      labels: s.labels,
      timestamps: Float64Array.of(...s.timestamps.subarray(0, gapFrom), ...s.timestamps.subarray(gapTo)),
      values: Float64Array.of(...s.values.subarray(0, gapFrom), ...s.values.subarray(gapTo)),
    }));
    await store.importHistory(first);
    // and today's samples of the same series, in an open day chunk
    await store.importHistory(input.map((s, k) => ({ labels: s.labels, ...history(10, today, k) })));
    const readOld = () => store.select(all, old, old + DAY - 1);
    const plain = await readOld();
    expect(plain).toHaveLength(20);
    const bytesBefore = (await store.stats()).bytes;

    await pool.query(`CALL run_job($1)`, [job]);
    expect((await chunksOf(pool, 'packed')).map((c) => c.compressed)).toEqual([true, false]);

    // reads used to fail here: transparent decompression cannot return xmin
    const cold = await new SampleStore(pool, { schema: 'packed', clock: () => now, chunkCacheBytes: 0 }).select(
      all,
      old,
      old + DAY - 1,
    );
    const warm = await readOld();
    for (const got of [cold, warm]) {
      expect(got.map((s) => s.labels)).toEqual(plain.map((s) => s.labels));
      got.forEach((s, i) => {
        expect(Array.from(s.timestamps)).toEqual(Array.from(plain[i]!.timestamps));
        expect(bits(s.values)).toEqual(bits(plain[i]!.values));
      });
    }
    expect(isStaleNaN(warm[0]!.values[96]!)).toBe(true);
    const bytesAfter = (await store.stats()).bytes;

    // a backfill of the gap lands in the compressed day; the warm cache must not hide it
    now += 1000;
    await store.importHistory(input);
    const filled = await readOld();
    filled.forEach((s, i) => {
      expect(Array.from(s.timestamps)).toEqual(Array.from(input[i]!.timestamps));
      expect(bits(s.values)).toEqual(bits(input[i]!.values));
    });
    expect(bytesAfter).toBeLessThan(bytesBefore);
  });
});
