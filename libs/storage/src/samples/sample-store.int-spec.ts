import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isStaleNaN, type MetricsBatchV1, type SeriesData } from '@arcwatch/contracts';
import { BENCH_DIR, FIXTURES_DIR, type TestDatabase } from '@arcwatch/testing';
import type { Pool } from 'pg';
import { migrate } from '../migrations/migrate';
import { partitionName, utcDayStart } from '../partitioning/partitioning';
import { isTimescaleInstalled } from '../partitioning/partitioning.repository';
import { batchFromExposition } from '../testing/exposition-batches';
import { SampleStore } from './sample-store';
import { sampleStoreMigrations } from './sample-store.migrations';
import { selectChunksSql } from './sample-store.repository';
import { closeSampleStoreDb, openSampleStoreDb } from '../testing/sample-store-db';

const SCHEMA = 'collector';
const T0 = Date.UTC(2025, 2, 10, 12, 0, 0);
let db: TestDatabase;
let pool: Pool;
let now = T0 + 3_600_000;
const clock = () => now;

function batch(
  id: string,
  series: { labels: Record<string, string>; samples: MetricsBatchV1['series'][number]['samples'] }[],
): MetricsBatchV1 {
  return {
    batchId: id,
    source: 'scrape',
    cluster: 'c1',
    node: 'n1',
    target: { job: 'j', instance: 'i' },
    scrapedAtMs: series[0]!.samples[0]![0],
    series,
  };
}

function byName(data: SeriesData[], name: string): SeriesData {
  const s = data.find((d) => d.labels.__name__ === name);
  if (!s) throw new Error(`no series ${name}`);
  return s;
}

async function snapshot(store: SampleStore): Promise<string> {
  const data = await store.select([{ name: '__name__', type: '=~', value: '.+' }], 0, 4e12);
  return JSON.stringify(
    data.map((d) => [
      d.labels,
      Array.from(d.timestamps),
      Array.from(new Uint32Array(Float64Array.from(d.values).buffer)),
    ]),
  );
}

/**
 * The table holding chunk rows at `ms`, as applyRetention reports it: the daily partition on
 * plain PostgreSQL, the hypertable chunk (schema-qualified) on TimescaleDB.
 */
async function chunkTableAt(ms: number): Promise<string | undefined> {
  if (!(await isTimescaleInstalled(pool))) {
    const name = partitionName('chunks', utcDayStart(ms));
    const { rows } = await pool.query(`SELECT to_regclass($1) AS t`, [`${SCHEMA}.${name}`]);
    return rows[0].t ? name : undefined;
  }
  const { rows } = await pool.query<{ name: string }>(
    `SELECT chunk_schema || '.' || chunk_name AS name FROM timescaledb_information.chunks
      WHERE hypertable_schema = $1 AND hypertable_name = 'chunks' AND range_start <= $2 AND range_end > $2`,
    [SCHEMA, new Date(ms).toISOString()],
  );
  return rows[0]?.name;
}

beforeAll(async () => {
  ({ db, pool } = await openSampleStoreDb(SCHEMA));
});

afterAll(() => closeSampleStoreDb(db, pool));

describe('SampleStore', () => {
  it('stores NaN, ±Inf and stale markers bit-exactly, before and after compaction', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    const labels = { __name__: 'special_values', job: 'j', instance: 'i' };
    const r = await store.appendBatch(
      batch('special-1', [
        {
          labels,
          samples: [
            [T0, 1.25],
            [T0 + 15_000, 'NaN'],
            [T0 + 30_000, '+Inf'],
            [T0 + 45_000, '-Inf'],
            [T0 + 60_000, 'stale'],
          ],
        },
      ]),
    );
    expect(r).toEqual({ inserted: true, samples: 5, newSeries: 1 });
    const check = async () => {
      const [s] = await store.select([{ name: '__name__', type: '=', value: 'special_values' }], T0, T0 + 60_000);
      expect(Array.from(s!.timestamps)).toEqual([T0, T0 + 15_000, T0 + 30_000, T0 + 45_000, T0 + 60_000]);
      const v = s!.values;
      expect([v[0], v[2], v[3]]).toEqual([1.25, Infinity, -Infinity]);
      expect(Number.isNaN(v[1]) && !isStaleNaN(v[1]!)).toBe(true);
      expect(isStaleNaN(v[4]!)).toBe(true);
      expect(s!.labels).toEqual(labels);
    };
    await check();
    await store.compact(0);
    await check();
  });

  it('replaying a batch changes nothing, before and after compaction', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    const b = batch('replay-1', [{ labels: { __name__: 'replayed', job: 'j' }, samples: [[T0 + 1000, 7]] }]);
    expect((await store.appendBatch(b)).inserted).toBe(true);
    const before = await snapshot(store);
    const statsBefore = await store.stats();
    expect(await store.appendBatch(b)).toEqual({ inserted: false, samples: 0, newSeries: 0 });
    expect(await snapshot(store)).toBe(before);
    await store.compact(0);
    expect(await snapshot(store)).toBe(before);
    expect(await store.appendBatches([b, b])).toMatchObject({ inserted: 0, duplicates: 2 });
    await store.compact(0);
    expect(await snapshot(store)).toBe(before);
    expect((await store.stats()).samples).toBe(statsBefore.samples);
  });

  it('returns only samples inside a partially overlapping window, from chunks and head alike', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    const labels = { __name__: 'windowed', job: 'j' };
    // 3 hours at 15 min: crosses a 2 h chunk boundary; the last hour stays in the head
    const pts = Array.from({ length: 12 }, (_, i) => T0 + i * 900_000);
    await store.appendBatch(
      batch('win-a', [{ labels, samples: pts.slice(0, 8).map((t, i): [number, number] => [t, i]) }]),
    );
    await store.compact(0);
    await store.appendBatch(
      batch('win-b', [{ labels, samples: pts.slice(8).map((t, i): [number, number] => [t, i + 8]) }]),
    );
    const [s] = await store.select([{ name: '__name__', type: '=', value: 'windowed' }], pts[3]! - 1, pts[9]!);
    expect(Array.from(s!.timestamps)).toEqual(pts.slice(3, 10));
    expect(Array.from(s!.values)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(
      await store.select([{ name: '__name__', type: '=', value: 'windowed' }], pts[11]! + 1, pts[11]! + 10),
    ).toEqual([]);
  });

  it('keeps every sample of the fleet workload through compaction and pushes matchers down', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aw-fleet-'));
    try {
      execFileSync(process.execPath, [
        path.join(BENCH_DIR, 'fleet.mjs'),
        'prom',
        '--nodes',
        '2',
        '--scrapes',
        '3',
        '--ts',
        '--end-ms',
        String(T0 + 30_000),
        '--out',
        dir,
      ]);
      const files = readdirSync(dir).sort();
      const batches = files.map((f, k) =>
        batchFromExposition(readFileSync(path.join(dir, f), 'utf8'), {
          batchId: `fleet-${k}`,
          timestampMs: 0,
          job: 'fleet',
          instance: 'sim',
        }),
      );
      const total = batches.reduce((a, b) => a + b.series.length, 0);
      const store = new SampleStore(pool, { schema: 'fleet', clock });
      await migrate(pool, { schema: 'fleet', migrations: sampleStoreMigrations('fleet') });
      const res = await store.appendBatches(batches);
      expect(res).toMatchObject({ inserted: 3, samples: total, newSeries: total / 3 });
      const before = await snapshot(store);
      const compacted = await store.compact(0);
      expect(compacted).toEqual({ series: total / 3, samples: total });
      expect(await snapshot(store)).toBe(before);
      expect((await store.stats()).samples).toBe(total);
      const util = await store.select(
        [
          { name: '__name__', type: '=', value: 'DCGM_FI_DEV_GPU_UTIL' },
          { name: 'Hostname', type: '=~', value: 'gpu-node-00(1|2)' },
          { name: 'gpu', type: '!~', value: '[4-7]' },
        ],
        T0,
        T0 + 30_000,
      );
      expect(util.map((u) => `${u.labels.Hostname}/${u.labels.gpu}`).sort()).toEqual([
        'gpu-node-001/0',
        'gpu-node-001/1',
        'gpu-node-001/2',
        'gpu-node-001/3',
        'gpu-node-002/0',
        'gpu-node-002/1',
        'gpu-node-002/2',
        'gpu-node-002/3',
      ]);
      expect(util.every((u) => u.timestamps.length === 3)).toBe(true);
      expect(
        await store.labelValues('Hostname', [[{ name: '__name__', type: '=', value: 'DCGM_FI_DEV_GPU_TEMP' }]], T0, T0),
      ).toEqual(['gpu-node-001', 'gpu-node-002']);
      expect(
        await store.labelNames([[{ name: '__name__', type: '=', value: 'vllm:num_requests_running' }]], T0, T0),
      ).toEqual(['__name__', 'instance', 'job', 'model_name']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stores a real dcgm-exporter scrape and reads its values back exactly', async () => {
    const text = readFileSync(
      path.join(FIXTURES_DIR, 'dcgm-exporter', 'dcgm-exporter-L4-driver580.k8s-ai-conformance-kops.metrics.txt'),
      'utf8',
    );
    const b = batchFromExposition(text, {
      batchId: 'dcgm-l4',
      timestampMs: T0,
      job: 'dcgm',
      instance: '10.0.0.7:9400',
    });
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    await store.appendBatch(b);
    await store.compact(0);
    const got = await store.select([{ name: 'job', type: '=', value: 'dcgm' }], T0, T0);
    expect(got).toHaveLength(b.series.length);
    const clock0 = byName(got, 'DCGM_FI_DEV_SM_CLOCK');
    expect(clock0.values[0]).toBe(b.series.find((s) => s.labels.__name__ === 'DCGM_FI_DEV_SM_CLOCK')!.samples[0]![1]);
    for (const s of b.series) {
      const match = got.find(
        (g) => JSON.stringify(Object.entries(g.labels).sort()) === JSON.stringify(Object.entries(s.labels).sort()),
      );
      expect(match?.values[0]).toBe(s.samples[0]![1]);
    }
  });

  it('two writers creating the same series concurrently share one id per series', async () => {
    const a = new SampleStore(pool, { schema: SCHEMA, clock });
    const b = new SampleStore(pool, { schema: SCHEMA, clock });
    const series = Array.from({ length: 200 }, (_, i) => ({
      labels: { __name__: 'race_metric', shard: String(i) },
      samples: [[T0, i]] as [number, number][],
    }));
    await Promise.all([
      a.appendBatch({ ...batch('race-a', series), target: { job: 'j', instance: 'a' } }),
      b.appendBatch({
        ...batch(
          'race-b',
          series.map((s) => ({ ...s, samples: [[T0 + 1, 1]] as [number, number][] })),
        ),
        target: { job: 'j', instance: 'b' },
      }),
    ]);
    const { rows } = await pool.query<{ n: string; d: string }>(
      `SELECT count(*) AS n, count(DISTINCT labels_hash) AS d FROM ${SCHEMA}.series WHERE metric = 'race_metric'`,
    );
    expect(rows[0]).toEqual({ n: '200', d: '200' });
    const read = await new SampleStore(pool, { schema: SCHEMA, clock }).select(
      [{ name: '__name__', type: '=', value: 'race_metric' }],
      T0,
      T0 + 1,
    );
    expect(read).toHaveLength(200);
    expect(read.every((s) => s.timestamps.length === 2)).toBe(true);
  });

  it('a writer reads the series another writer created just before its own', async () => {
    const a = new SampleStore(pool, { schema: SCHEMA, clock });
    const b = new SampleStore(pool, { schema: SCHEMA, clock });
    const one = (name: string, v: number) => [{ labels: { __name__: name }, samples: [[T0, v]] as [number, number][] }];
    await b.select([{ name: '__name__', type: '=', value: 'nothing_yet' }], T0, T0);
    // a takes the next catalog ids, then b creates a series of its own above them without having
    // read a's: b's catalog jumps past ids it never saw, and must still look them up.
    await a.appendBatch({ ...batch('gap-a', one('made_by_a', 1)), target: { job: 'j', instance: 'a' } });
    await b.appendBatch({ ...batch('gap-b', one('made_by_b', 2)), target: { job: 'j', instance: 'b' } });
    const read = await b.select([{ name: '__name__', type: '=~', value: 'made_by_.' }], T0, T0);
    expect(read.map((s) => [s.labels.__name__, Array.from(s.values)]).sort()).toEqual([
      ['made_by_a', [1]],
      ['made_by_b', [2]],
    ]);
  });

  it('rejects a batch beyond the series limit, whole', async () => {
    const store = new SampleStore(pool, { schema: 'limited', clock, maxSeries: 2 });
    await migrate(pool, { schema: 'limited', migrations: sampleStoreMigrations('limited') });
    const series = ['a', 'b', 'c'].map((n) => ({ labels: { __name__: n }, samples: [[T0, 1]] as [number, number][] }));
    await expect(store.appendBatch(batch('too-many', series))).rejects.toMatchObject({ code: 'SERIES_LIMIT_EXCEEDED' });
    expect((await store.stats()).series).toBe(0);
  });

  it('runs a compaction or an import that lost a deadlock again, counting its samples once', async () => {
    const schema = 'deadlock';
    await migrate(pool, { schema, migrations: sampleStoreMigrations(schema) });
    // the first chunk write of each round fails as a deadlock victim would (SQLSTATE 40P01); a
    // sequence, not a table, counts the attempts: the failed transaction's writes roll back
    await pool.query(`
      CREATE SEQUENCE ${schema}.attempts;
      CREATE FUNCTION ${schema}.lose_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('${schema}.attempts') % 2 = 1 THEN
          RAISE EXCEPTION 'simulated deadlock' USING ERRCODE = 'deadlock_detected';
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER lose_once BEFORE INSERT ON ${schema}.chunks FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.lose_once();
    `);
    const attempts = async () =>
      Number((await pool.query(`SELECT last_value FROM ${schema}.attempts`)).rows[0].last_value);
    const store = new SampleStore(pool, { schema, clock });
    const labels = { __name__: 'retried', job: 'j', instance: 'i' };
    await store.appendBatches([
      batch('r-1', [{ labels, samples: [[T0, 1]] }]),
      batch('r-2', [{ labels, samples: [[T0 + 15_000, 2]] }]),
    ]);
    expect(await store.compact(0)).toEqual({ series: 1, samples: 2 });
    expect(await attempts()).toBe(2);
    const imported = await store.importHistory([
      { labels, timestamps: Float64Array.of(T0 + 30_000), values: Float64Array.of(3) },
    ]);
    expect(imported).toMatchObject({ samples: 1, chunks: 1 });
    expect(await attempts()).toBe(4);
    const [s] = await store.select([{ name: '__name__', type: '=', value: 'retried' }], T0, T0 + 3_600_000);
    expect(Array.from(s!.values)).toEqual([1, 2, 3]);
    expect((await pool.query(`SELECT count(*)::int AS n FROM ${schema}.head`)).rows[0].n).toBe(0);
  });

  it('drops chunk partitions past retention', async () => {
    const day = await chunkTableAt(T0);
    expect(day).toBeDefined();
    now = T0 + 10 * 86_400_000;
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    const res = await store.applyRetention({ retentionDays: 3 });
    expect(res.droppedPartitions).toContain(day);
    expect(await store.select([{ name: '__name__', type: '=', value: 'special_values' }], 0, 4e12)).toEqual([]);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.batch_log`);
    expect(rows[0].n).toBe(0);
    now = T0 + 3_600_000;
  });

  it('serves the hot read from the primary key with partition pruning', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    await store.ensurePartitions({ daysAhead: 3 });
    // a hypertable's chunks exist once rows land in them: one sample in the window, one two days on
    await store.importHistory(
      [T0, T0 + 2 * 86_400_000].map((t) => ({
        labels: { __name__: 'pruning_probe' },
        timestamps: Float64Array.of(t),
        values: Float64Array.of(1),
      })),
    );
    const outside = await chunkTableAt(Date.UTC(2025, 2, 12, 12));
    expect(outside).toBeDefined();
    const client = await pool.connect();
    await client.query('SET enable_seqscan = off');
    try {
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN ${selectChunksSql(SCHEMA)}`
          .replace(/\$1::int4\[\]/, `'{1,2,3}'::int4[]`)
          .replace('$2::int8', String(T0))
          .replace('$3::int8', String(T0 + 3_600_000))
          .replace('$4::int8', String(T0)),
      );
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      // chunks_p20250310_pkey natively, "5_chunks_pkey" on _hyper_1_5_chunk on TimescaleDB
      expect(plan).toMatch(/Index Scan using "?\w*chunks\w*_pkey"? on \w*(chunks_p20250310|_chunk)\b/);
      expect(plan).not.toMatch(/Seq Scan/);
      expect(plan).not.toContain(outside!.split('.').pop()); // pruned: outside the window
    } finally {
      await client.query('RESET enable_seqscan');
      client.release();
    }
  });
});
