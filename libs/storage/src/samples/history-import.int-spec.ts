import { STALE_NAN, isStaleNaN, type MetricsBatchV1 } from '@arcwatch/contracts';
import type { TestDatabase } from '@arcwatch/testing';
import type { Pool } from 'pg';
import { SampleStore } from './sample-store';
import { closeSampleStoreDb, openSampleStoreDb } from '../testing/sample-store-db';

const SCHEMA = 'backfill';
const T0 = Date.UTC(2025, 2, 10, 11, 0, 0); // one hour before a 2 h bucket boundary
const STEP = 15_000;
let db: TestDatabase;
let pool: Pool;
const clock = () => T0 + 6 * 3_600_000;

function series(
  n: number,
  from: number,
  value: (i: number) => number,
): { timestamps: Float64Array; values: Float64Array } {
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    timestamps[i] = from + i * STEP;
    values[i] = value(i);
  }
  return { timestamps, values };
}

beforeAll(async () => {
  ({ db, pool } = await openSampleStoreDb(SCHEMA));
});

afterAll(() => closeSampleStoreDb(db, pool));

describe('SampleStore.importHistory', () => {
  it('writes 3 h of two series straight into bucket-aligned chunks and reads them back bit-exactly', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    const util = series(720, T0, (i) => i % 101);
    util.values[100] = STALE_NAN; // element-wise store keeps the marker's payload
    util.values[101] = NaN;
    const power = series(720, T0, (i) => 300 + i / 7);
    const r = await store.importHistory([
      { labels: { __name__: 'gpu_util', gpu: '0', empty: '' }, ...util },
      { labels: { __name__: 'gpu_power', gpu: '0' }, ...power },
    ]);
    // T0 … T0+3h spans the buckets [10:00, 12:00) and [12:00, 14:00)
    expect(r).toEqual({ series: 2, newSeries: 2, samples: 1440, chunks: 4 });
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.head`);
    expect(rows[0]!.n).toBe('0');

    const [s] = await store.select([{ name: '__name__', type: '=', value: 'gpu_util' }], T0, T0 + 3 * 3_600_000);
    expect(s!.labels).toEqual({ __name__: 'gpu_util', gpu: '0' });
    expect(Array.from(s!.timestamps)).toEqual(Array.from(util.timestamps));
    expect(isStaleNaN(s!.values[100]!)).toBe(true);
    expect(Number.isNaN(s!.values[101]!) && !isStaleNaN(s!.values[101]!)).toBe(true);
    expect(Array.from(s!.values).slice(102)).toEqual(Array.from(util.values).slice(102));
    const [p] = await store.select(
      [{ name: '__name__', type: '=', value: 'gpu_power' }],
      T0 + 3_600_000,
      T0 + 3_600_000 + 4 * STEP,
    );
    expect(Array.from(p!.values)).toEqual([300 + 240 / 7, 300 + 241 / 7, 300 + 242 / 7, 300 + 243 / 7, 300 + 244 / 7]);
  });

  it('merges into stored chunks and the head: what is stored wins on an equal timestamp', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    const labels = { __name__: 'merge_me', pod: 'a' };
    await store.importHistory([{ labels, ...series(10, T0, (i) => i) }]); // T0 … T0+135 s
    // overlaps the first import at T0+90 s … T0+135 s with different values, and continues
    const r = await store.importHistory([{ labels, ...series(10, T0 + 6 * STEP, (i) => 100 + i) }]);
    expect(r).toMatchObject({ newSeries: 0, samples: 10, chunks: 1 });
    const batch: MetricsBatchV1 = {
      batchId: 'after-import',
      source: 'scrape',
      cluster: 'c1',
      node: 'n1',
      target: { job: 'j', instance: 'i' },
      scrapedAtMs: T0 + 20 * STEP,
      series: [{ labels, samples: [[T0 + 20 * STEP, 7]] }],
    };
    await store.appendBatch(batch);
    const [s] = await store.select([{ name: '__name__', type: '=', value: 'merge_me' }], T0, T0 + 3_600_000);
    expect(Array.from(s!.values)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 104, 105, 106, 107, 108, 109, 7]);
    expect(await store.compact(0)).toEqual({ series: 1, samples: 1 });
    const [after] = await store.select([{ name: '__name__', type: '=', value: 'merge_me' }], T0, T0 + 3_600_000);
    expect(Array.from(after!.values)).toEqual(Array.from(s!.values));
  });

  it('sorts unsorted input, drops repeated timestamps and rejects what it cannot store', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    const timestamps = Float64Array.of(T0 + 2 * STEP, T0, T0 + STEP, T0);
    const values = Float64Array.of(3, 1, 2, 9);
    await store.importHistory([{ labels: { __name__: 'unsorted' }, timestamps, values }]);
    const [s] = await store.select([{ name: '__name__', type: '=', value: 'unsorted' }], T0, T0 + 3 * STEP);
    expect(Array.from(s!.values)).toEqual([1, 2, 3]);
    await expect(store.importHistory([{ labels: { job: 'x' }, timestamps, values }])).rejects.toMatchObject({
      code: 'INVALID_BATCH',
    });
    await expect(
      store.importHistory([
        { labels: { __name__: 'frac' }, timestamps: Float64Array.of(T0 + 0.5), values: Float64Array.of(1) },
      ]),
    ).rejects.toMatchObject({
      code: 'INVALID_BATCH',
    });
  });
});
