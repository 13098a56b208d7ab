import { toMetricsBatchV2, type MetricsBatchV1 } from '@arcwatch/contracts';
import type { TestDatabase } from '@arcwatch/testing';
import type { Pool } from 'pg';
import { SampleStore } from './sample-store';
import { seriesInWindow } from './catalog-extras.repository';
import { migrate } from '../migrations/migrate';
import { sampleStoreMigrations } from './sample-store.migrations';
import { closeSampleStoreDb, openSampleStoreDb } from '../testing/sample-store-db';

/**
 * What the sample store keeps for the Prometheus API beside samples, against PostgreSQL:
 * declared metadata, exemplars, each series' time range (start / end on the catalog), and the
 * catalog pruned by retention.
 */
const SCHEMA = 'extras';
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
let db: TestDatabase;
let pool: Pool;
let now = T0;
const clock = () => now;

function batch(
  id: string,
  atMs: number,
  series: Array<[Record<string, string>, number]>,
  extra: Partial<MetricsBatchV1> = {},
): MetricsBatchV1 {
  return {
    batchId: id,
    source: 'scrape',
    cluster: 'c',
    node: 'n',
    target: { job: 'vllm', instance: 'n:8000' },
    scrapedAtMs: atMs,
    series: series.map(([labels, v]) => ({
      labels: { job: 'vllm', instance: 'n:8000', ...labels },
      samples: [[atMs, v]],
    })),
    ...extra,
  };
}

beforeAll(async () => {
  ({ db, pool } = await openSampleStoreDb(SCHEMA));
});

afterAll(() => closeSampleStoreDb(db, pool));

const names = (labels: Array<Record<string, string>>) =>
  labels.map((l) => `${l.__name__}${l.le ? `{le=${l.le}}` : ''}`).sort();

describe('sample store: metadata, exemplars, series ranges, pruning', () => {
  it('keeps the HELP, TYPE and UNIT targets declared, once per distinct declaration', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    const metadata = [
      {
        metric: 'vllm:e2e_request_latency_seconds',
        type: 'histogram' as const,
        help: 'Histogram of end to end request latency in seconds.',
        unit: 'seconds',
      },
      {
        metric: 'vllm:num_requests_running',
        type: 'gauge' as const,
        help: 'Number of requests in model execution batches.',
      },
    ];
    await store.appendPacked([
      toMetricsBatchV2(batch('m1', T0, [[{ __name__: 'vllm:num_requests_running' }, 3]], { metadata })),
    ]);
    await store.appendBatch(batch('m2', T0 + 15_000, [[{ __name__: 'vllm:num_requests_running' }, 4]], { metadata }));
    // another target describes the same family differently: both declarations are kept
    await store.appendBatch(
      batch('m3', T0 + 15_000, [[{ __name__: 'vllm:num_requests_running', engine: '1' }, 1]], {
        metadata: [{ metric: 'vllm:num_requests_running', type: 'gauge', help: 'Requests running.' }],
      }),
    );
    expect((await store.metadata()).map((m) => [m.metric, m.type, m.help, m.unit])).toEqual([
      [
        'vllm:e2e_request_latency_seconds',
        'histogram',
        'Histogram of end to end request latency in seconds.',
        'seconds',
      ],
      ['vllm:num_requests_running', 'gauge', 'Number of requests in model execution batches.', ''],
      ['vllm:num_requests_running', 'gauge', 'Requests running.', ''],
    ]);
    expect((await store.metadata('vllm:e2e_request_latency_seconds')).map((m) => m.type)).toEqual(['histogram']);
  });

  it('stores exemplars with their series, once, and answers them by selector and window', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    const bucket = (le: string) => ({ __name__: 'arcwatch_request_e2e_seconds_bucket', le });
    const b = batch(
      'e1',
      T0 + 60_000,
      [
        [bucket('0.5'), 3],
        [bucket('1'), 5],
        [bucket('+Inf'), 6],
      ],
      {
        source: 'tracing',
        exemplars: [
          { series: 1, labels: { request_id: 'req-1' }, value: 0.8, timestampMs: T0 + 41_000 },
          { series: 2, labels: { request_id: 'req-2' }, value: 7.5, timestampMs: T0 + 59_000 },
        ],
      },
    );
    await store.appendPacked([toMetricsBatchV2(b)]);
    await store.appendPacked([toMetricsBatchV2(b)]); // a redelivery
    const all = await store.exemplars(
      [[{ name: '__name__', type: '=', value: 'arcwatch_request_e2e_seconds_bucket' }]],
      T0,
      T0 + 120_000,
    );
    expect(all.map((s) => [s.labels.le, s.exemplars])).toEqual([
      ['1', [{ labels: { request_id: 'req-1' }, value: 0.8, timestampMs: T0 + 41_000 }]],
      ['+Inf', [{ labels: { request_id: 'req-2' }, value: 7.5, timestampMs: T0 + 59_000 }]],
    ]);
    expect(all[0]!.labels).toEqual({ ...bucket('1'), job: 'vllm', instance: 'n:8000' });
    const early = await store.exemplars([[{ name: 'le', type: '=~', value: '.+' }]], T0, T0 + 50_000);
    expect(early.flatMap((s) => s.exemplars.map((e) => e.labels.request_id))).toEqual(['req-1']);
    // v1 batches through appendBatch keep theirs too
    await store.appendBatch(
      batch('e2', T0 + 120_000, [[bucket('1'), 9]], {
        exemplars: [{ series: 0, labels: { trace_id: 'abc' }, value: 0.9, timestampMs: T0 + 110_000 }],
      }),
    );
    const later = await store.exemplars([[{ name: 'le', type: '=', value: '1' }]], T0 + 100_000, T0 + 200_000);
    expect(later.flatMap((s) => s.exemplars.map((e) => e.labels))).toEqual([{ trace_id: 'abc' }]);
  });

  it('lists only the series with a sample in the window, before and after compaction', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    const t = T0 + 10 * DAY;
    now = t + 3_600_000;
    await store.appendBatch(
      batch('w1', t, [
        [{ __name__: 'window_early' }, 1],
        [{ __name__: 'window_both' }, 1],
      ]),
    );
    await store.appendBatch(
      batch('w2', t + 600_000, [
        [{ __name__: 'window_late', model: 'qwen' }, 1],
        [{ __name__: 'window_both' }, 2],
      ]),
    );
    const sel = [[{ name: '__name__', type: '=~' as const, value: 'window_.*' }]];
    const check = async () => {
      expect(names(await store.series(sel, t - 1000, t + 1000))).toEqual(['window_both', 'window_early']);
      expect(names(await store.series(sel, t + 300_000, t + 700_000))).toEqual(['window_both', 'window_late']);
      expect(names(await store.series(sel, t + 700_000, t + 800_000))).toEqual([]);
      expect(await store.labelNames(sel, t - 1000, t + 1000)).toEqual(['__name__', 'instance', 'job']);
      expect(await store.labelNames(sel, t, t + 600_000)).toEqual(['__name__', 'instance', 'job', 'model']);
      expect(await store.labelValues('__name__', sel, t + 600_000, t + 600_000)).toEqual([
        'window_both',
        'window_late',
      ]);
    };
    await check(); // from the head
    expect((await store.compact(0)).samples).toBeGreaterThanOrEqual(4);
    expect(Number((await pool.query(`SELECT count(*) AS n FROM ${SCHEMA}.head`)).rows[0].n)).toBe(0);
    await check(); // from the ranges compaction keeps in the catalog
    const ranges = await pool.query(
      `SELECT s.id, s.metric, r.first_ms, r.last_ms FROM ${SCHEMA}.series s
         LEFT JOIN ${SCHEMA}.series_ranges r ON r.series_id = s.id
        WHERE s.metric LIKE 'window_%' ORDER BY s.metric`,
    );
    expect(
      ranges.rows.filter((r) => r.metric === 'window_both').map((r) => [Number(r.first_ms), Number(r.last_ms)]),
    ).toEqual([[t, t + 600_000]]);
    // a long id list is answered by range instead of sending the list: the same series come back
    const ids: Record<string, number> = Object.fromEntries(
      ranges.rows.map((r) => [r.metric as string, r.id as number]),
    );
    const many = [...Array.from({ length: 10_001 }, (_, i) => 1_000_000 + i), ...Object.values(ids)];
    expect((await seriesInWindow(pool, SCHEMA, many, t + 300_000, t + 700_000)).sort()).toEqual(
      [ids.window_both, ids.window_late].sort(),
    );
    expect((await seriesInWindow(pool, SCHEMA, Object.values(ids), t + 300_000, t + 700_000)).sort()).toEqual(
      [ids.window_both, ids.window_late].sort(),
    );
  });

  it('moves the ranges of a store from before 0007 into their own table, and widens them there in place', async () => {
    const schema = 'extras_upgrade';
    const all = sampleStoreMigrations(schema);
    await migrate(pool, {
      schema,
      migrations: all.slice(
        0,
        all.findIndex((m) => m.id === '0007_series_ranges'),
      ),
    });
    await pool.query(
      `INSERT INTO ${schema}.series (metric, labels, labels_hash, first_ms, last_ms) VALUES
         ('compacted', '{"job":"a"}', '\\x01', $1, $2), ('head_only', '{"job":"a"}', '\\x02', NULL, NULL)`,
      [T0, T0 + 60_000],
    );
    await migrate(pool, { schema, migrations: all });
    const ranges = await pool.query(
      `SELECT s.metric, r.first_ms, r.last_ms FROM ${schema}.series s
         LEFT JOIN ${schema}.series_ranges r ON r.series_id = s.id ORDER BY s.metric`,
    );
    expect(
      ranges.rows.map((r) => [r.metric, r.first_ms && Number(r.first_ms), r.last_ms && Number(r.last_ms)]),
    ).toEqual([
      ['compacted', T0, T0 + 60_000],
      ['head_only', null, null],
    ]);
    const cols = await pool.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'series'`,
      [schema],
    );
    expect(cols.rows.map((r) => r.column_name as string)).not.toContain('last_ms');
    // compaction's widening, pass after pass: the ranges change, the catalog row stays as written
    const store = new SampleStore(pool, { schema, clock: () => T0 + DAY });
    const catalogRow = async () =>
      (
        await pool.query<{ v: string }>(
          `SELECT xmin::text || '@' || ctid::text AS v FROM ${schema}.series
            WHERE metric = 'compacted' AND labels @> '{"job":"vllm"}'`,
        )
      ).rows.map((r) => r.v);
    let written: string[] = [];
    for (let k = 0; k < 5; k++) {
      await store.appendBatch(batch(`up-${k}`, T0 + 120_000 + k * 1000, [[{ __name__: 'compacted' }, k]]));
      await store.compact(0);
      if (k === 0) written = await catalogRow();
    }
    expect(written).toHaveLength(1);
    expect(await catalogRow()).toEqual(written);
    const after = await pool.query(
      `SELECT r.first_ms, r.last_ms FROM ${schema}.series_ranges r JOIN ${schema}.series s ON s.id = r.series_id
        WHERE s.metric = 'compacted' AND s.labels @> '{"job":"vllm"}'`,
    );
    expect(after.rows.map((r) => [Number(r.first_ms), Number(r.last_ms)])).toEqual([[T0 + 120_000, T0 + 124_000]]);
    await pool.query(`DROP SCHEMA ${schema} CASCADE`);
  });

  it('prunes series whose samples retention dropped, with their exemplars; recent series stay', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    const old = T0 + 20 * DAY;
    const recent = old + 30 * DAY;
    now = old + 3_600_000;
    await store.appendBatch(
      batch(
        'p1',
        old,
        [
          [{ __name__: 'prune_me' }, 1],
          [{ __name__: 'prune_keep' }, 1],
        ],
        { exemplars: [{ series: 0, labels: { trace_id: 'old' }, value: 1, timestampMs: old }] },
      ),
    );
    await store.compact(0);
    now = recent + 3_600_000;
    await store.appendBatch(batch('p2', recent, [[{ __name__: 'prune_keep' }, 2]]));
    const sel = [[{ name: '__name__', type: '=~' as const, value: 'prune_.*' }]];
    expect(names(await store.series(sel, 0, recent + DAY))).toEqual(['prune_keep', 'prune_me']);

    const r = await store.applyRetention({ retentionDays: 15 });
    expect(r.droppedPartitions.length).toBeGreaterThan(0);
    expect(r.prunedSeries).toBeGreaterThanOrEqual(1);
    expect(names(await store.series(sel, 0, recent + DAY))).toEqual(['prune_keep']);
    const rows = await pool.query(`SELECT metric FROM ${SCHEMA}.series WHERE metric LIKE 'prune_%' ORDER BY metric`);
    expect(rows.rows.map((x) => x.metric)).toEqual(['prune_keep']);
    expect(await store.exemplars(sel, 0, recent + DAY)).toEqual([]);
    // a fresh store (another process) does not see the pruned series either
    const other = new SampleStore(pool, { schema: SCHEMA, clock });
    expect(names(await other.series(sel, 0, recent + DAY))).toEqual(['prune_keep']);
    // the pruned series can come back, under a new id, and is read again
    await store.appendBatch(batch('p3', recent + 15_000, [[{ __name__: 'prune_me' }, 5]]));
    const [back] = await store.select([{ name: '__name__', type: '=', value: 'prune_me' }], recent, recent + 60_000);
    expect(Array.from(back!.values)).toEqual([5]);
  });
});
