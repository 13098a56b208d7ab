import { STALE_NAN, isStaleNaN } from '@arcwatch/contracts';
import type { TestDatabase } from '@arcwatch/testing';
import type { Pool } from 'pg';
import { CHUNK_REVALIDATE_MS, ChunkCache, readChunks, type ChunkReadContext, type SeriesRun } from './chunk-read';
import { SampleStore } from './sample-store';
import { closeSampleStoreDb, openSampleStoreDb, seriesIdsOf } from '../testing/sample-store-db';

const SCHEMA = 'chunkread';
const T0 = Date.UTC(2025, 2, 10, 10, 0, 0); // on a 2 h bucket boundary
const STEP = 15_000;
const SPAN = 2 * 3_600_000;
let db: TestDatabase;
let pool: Pool;
let now = T0 + 4 * SPAN;
const clock = () => now;

/** `n` samples from `from` on: value i * 1.5, a staleness marker at every 100th. */
function series(n: number, from: number): { timestamps: Float64Array; values: Float64Array } {
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    timestamps[i] = from + i * STEP;
    values[i] = i % 100 === 99 ? STALE_NAN : i * 1.5;
  }
  return { timestamps, values };
}

const bits = (v: ArrayLike<number>): number[] => Array.from(new Uint32Array(Float64Array.from(v).buffer));

beforeAll(async () => {
  ({ db, pool } = await openSampleStoreDb(SCHEMA));
});

afterAll(() => closeSampleStoreDb(db, pool));

describe('chunk reads', () => {
  it('decode every series into one array pair, the same with and without the cache, over two connections', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    // 10 series × 3 buckets, all ended before `now`
    await store.importHistory(
      Array.from({ length: 10 }, (_, k) => ({
        labels: { __name__: 'cr_gauge', k: String(k) },
        ...series(3 * 480, T0),
      })),
    );
    const ids = await idsOf('cr_gauge');
    const cache = new ChunkCache(64 * 1024 * 1024);
    const ctx: ChunkReadContext = { pool, schema: SCHEMA, spanMs: SPAN, cache, nowMs: now };
    const plain = await readChunks({ ...ctx, cache: undefined }, ids, T0, T0 + 3 * SPAN);
    const cold = await readChunks(ctx, ids, T0, T0 + 3 * SPAN);
    expect([cache.size, cache.fetchedChunks]).toEqual([10, 30]);
    const warm = await readChunks(ctx, ids, T0, T0 + 3 * SPAN);
    // every series from its run, not a chunk row fetched again
    expect([cache.hits, cache.fetchedChunks]).toEqual([10, 30]);
    const expected = series(3 * 480, T0);
    for (const id of ids) {
      for (const got of [plain.get(id)!, cold.get(id)!, warm.get(id)!]) {
        expect(Array.from(got.timestamps)).toEqual(Array.from(expected.timestamps));
        expect(bits(got.values)).toEqual(bits(expected.values));
      }
      // handed out without a copy: views of the arrays the cold read decoded into
      expect(warm.get(id)!.timestamps.buffer).toBe(cold.get(id)!.timestamps.buffer);
    }
    expect(isStaleNaN(warm.get(ids[0]!)!.values[99]!)).toBe(true);
    // a narrower window inside the cached buckets is served from the runs too
    const inner = await readChunks(ctx, ids, T0 + SPAN + 60_000, T0 + 2 * SPAN - 60_000);
    expect([cache.hits, cache.fetchedChunks]).toEqual([20, 30]);
    expect(Array.from(inner.get(ids[3]!)!.timestamps)).toEqual(Array.from(expected.timestamps.subarray(480, 960)));
  });

  it('notices a cached chunk rewritten after it was read', async () => {
    now = T0 + SPAN + 30 * 60_000; // the second bucket is still open
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    const labels = { __name__: 'cr_backfilled', job: 'j' };
    const first = series(480 + 120, T0);
    await store.importHistory([
      { labels, timestamps: first.timestamps.subarray(0, 400), values: first.values.subarray(0, 400) },
    ]);
    const before = await store.select([{ name: '__name__', type: '=', value: 'cr_backfilled' }], T0, T0 + 2 * SPAN);
    expect(before[0]!.timestamps.length).toBe(400);
    // a backfill fills the rest of the (cached, final) first bucket and part of the open one
    await store.importHistory([
      { labels, timestamps: first.timestamps.subarray(400), values: first.values.subarray(400) },
    ]);
    const after = await store.select([{ name: '__name__', type: '=', value: 'cr_backfilled' }], T0, T0 + 2 * SPAN);
    expect(Array.from(after[0]!.timestamps)).toEqual(Array.from(first.timestamps));
    expect(bits(after[0]!.values)).toEqual(bits(first.values));
    // and once more, now from the cache for the first bucket
    const again = await store.select([{ name: '__name__', type: '=', value: 'cr_backfilled' }], T0, T0 + 2 * SPAN);
    expect(bits(again[0]!.values)).toEqual(bits(first.values));
  });

  it('caches the open bucket at its version too, and fetches only it again once it is rewritten', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    const labels = { __name__: 'cr_open', job: 'j' };
    const all = series(480 + 150, T0);
    await store.importHistory([
      { labels, timestamps: all.timestamps.subarray(0, 580), values: all.values.subarray(0, 580) },
    ]);
    const ids = await idsOf('cr_open');
    const cache = new ChunkCache(64 * 1024 * 1024);
    // the second bucket is still open at nowMs
    const ctx: ChunkReadContext = { pool, schema: SCHEMA, spanMs: SPAN, cache, nowMs: T0 + SPAN + 30 * 60_000 };
    await readChunks(ctx, ids, T0, T0 + 2 * SPAN);
    expect([cache.size, cache.fetchedChunks]).toEqual([1, 2]);
    const warm = await readChunks(ctx, ids, T0, T0 + 2 * SPAN);
    expect([cache.hits, cache.fetchedChunks, warm.get(ids[0]!)!.timestamps.length]).toEqual([1, 2, 580]);
    // samples arrive in the open bucket: its row is rewritten with a new version and change number
    await store.importHistory([{ labels, timestamps: all.timestamps.subarray(580), values: all.values.subarray(580) }]);
    const after = await readChunks(ctx, ids, T0, T0 + 2 * SPAN);
    expect([cache.misses, cache.fetchedChunks]).toEqual([2, 3]); // the open bucket's chunk only
    expect(Array.from(after.get(ids[0]!)!.timestamps)).toEqual(Array.from(all.timestamps));
    expect(bits(after.get(ids[0]!)!.values)).toEqual(bits(all.values));
  });

  it('keeps a chunk of the first bucket that ends before the window, for a later read that starts earlier', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    const early = series(40, T0); // 10 minutes at the start of the first bucket, then nothing
    const late = series(480, T0 + SPAN);
    await store.importHistory([
      { labels: { __name__: 'cr_gap', job: 'j' }, ...early },
      { labels: { __name__: 'cr_gap', job: 'j' }, ...late },
    ]);
    const ids = await idsOf('cr_gap');
    const cache = new ChunkCache(64 * 1024 * 1024);
    const ctx: ChunkReadContext = { pool, schema: SCHEMA, spanMs: SPAN, cache, nowMs: now };
    const first = await readChunks(ctx, ids, T0 + 30 * 60_000, T0 + 2 * SPAN - 1);
    const earlier = await readChunks(ctx, ids, T0, T0 + 2 * SPAN - 1);
    expect(cache.hits).toBe(1);
    // the first read returns the first bucket's chunk unclipped (select clips), the second all of it
    for (const got of [first, earlier])
      expect(Array.from(got.get(ids[0]!)!.timestamps)).toEqual([...early.timestamps, ...late.timestamps]);
  });

  it('checks its runs against the row versions again after CHUNK_REVALIDATE_MS, whatever the change numbers say', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    const labels = { __name__: 'cr_handmade', job: 'j' };
    const orig = series(100, T0);
    // the same timestamps, values i * 3 and no stale markers: what a hand-made rewrite will copy in
    const doubled = { timestamps: orig.timestamps, values: orig.values.map((_, i) => i * 3) };
    await store.importHistory([
      { labels, ...orig },
      { labels: { __name__: 'cr_handmade_src', job: 'j' }, ...doubled },
    ]);
    const ids = await idsOf('cr_handmade');
    const [src] = await idsOf('cr_handmade_src');
    const cache = new ChunkCache(64 * 1024 * 1024);
    const ctx: ChunkReadContext = { pool, schema: SCHEMA, spanMs: SPAN, cache, nowMs: now };
    await readChunks(ctx, ids, T0, T0 + SPAN - 1);
    // a writer that predates the change numbers rewrites the chunk and its version, not the number
    await pool.query(
      `UPDATE ${SCHEMA}.chunks c SET data = s.data, count = s.count, version = c.version + 1
         FROM ${SCHEMA}.chunks s WHERE s.series_id = $1 AND c.series_id = $2 AND c.start_time = s.start_time`,
      [src, ids[0]],
    );
    const soon = await readChunks({ ...ctx, nowMs: now + CHUNK_REVALIDATE_MS - 1 }, ids, T0, T0 + SPAN - 1);
    expect(bits(soon.get(ids[0]!)!.values)).toEqual(bits(orig.values)); // still the cached run
    const later = await readChunks({ ...ctx, nowMs: now + CHUNK_REVALIDATE_MS }, ids, T0, T0 + SPAN - 1);
    expect(bits(later.get(ids[0]!)!.values)).toEqual(bits(doubled.values));
  });

  it('serves nothing of the days retention dropped, though their runs were cached', async () => {
    const day = Date.UTC(2025, 0, 5, 10, 0, 0); // long before the other tests' data
    let at = day + SPAN;
    const store = new SampleStore(pool, { schema: SCHEMA, clock: () => at });
    await store.importHistory([{ labels: { __name__: 'cr_expired', job: 'j' }, ...series(100, day) }]);
    const sel = [{ name: '__name__', type: '=' as const, value: 'cr_expired' }];
    expect((await store.select(sel, day, day + SPAN))[0]!.timestamps.length).toBe(100);
    // ten days later, with a retention of five: the day's partition is dropped
    at = day + 10 * 86_400_000;
    const res = await store.ensurePartitions({ retentionDays: 5 });
    expect(res.dropped).toEqual(['chunks_p20250105']);
    expect(await store.select(sel, day, day + SPAN)).toEqual([]);
  });

  it('evicts least recently used runs beyond its byte budget', () => {
    const validation = { fromMs: 0, stamps: [''], checkedAtMs: 0 };
    const run = (n: number): SeriesRun => ({
      validation,
      starts: [0],
      versions: ['1:1'],
      offsets: [0, n],
      timestamps: new Float64Array(n),
      values: new Float64Array(n),
    });
    const cache = new ChunkCache(3 * (2 * 8 * 100 + 24 + 256));
    for (const id of [1, 2, 3]) cache.set(id, run(100));
    cache.touch(1, cache.peek(1)!); // 1 becomes the most recent
    cache.set(4, run(100));
    expect([1, 2, 3, 4].map((id) => cache.peek(id) !== undefined)).toEqual([true, false, true, true]);
    expect(cache.usedBytes).toBeLessThanOrEqual(cache.maxBytes);
    cache.set(5, run(10_000)); // larger than the whole budget: not kept
    expect([cache.peek(5), cache.size]).toEqual([undefined, 3]);
  });
});

const idsOf = (metric: string): Promise<number[]> => seriesIdsOf(pool, SCHEMA, metric);
