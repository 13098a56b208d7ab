import { STALE_NAN, isStaleNaN } from '@arcwatch/contracts';
import { createTestDatabase, type TestDatabase } from '@arcwatch/testing';
import type { Pool } from 'pg';
import { migrate } from '../migrations/migrate';
import { createPool } from '../pool';
import { ChunkCache, readChunks, type ChunkReadContext } from './chunk-read';
import { SampleStore } from './sample-store';
import { sampleStoreMigrations } from './sample-store.migrations';

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
  db = await createTestDatabase();
  pool = createPool(db.url, { max: 4 });
  await migrate(pool, { schema: SCHEMA, migrations: sampleStoreMigrations(SCHEMA) });
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

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
    const ids = (
      await pool.query<{ id: number }>(`SELECT id FROM ${SCHEMA}.series WHERE metric = 'cr_gauge' ORDER BY id`)
    ).rows.map((r) => r.id);
    const cache = new ChunkCache(64 * 1024 * 1024);
    const ctx: ChunkReadContext = { pool, schema: SCHEMA, spanMs: SPAN, cache, nowMs: now };
    const plain = await readChunks({ ...ctx, cache: undefined }, ids, T0, T0 + 3 * SPAN);
    const cold = await readChunks(ctx, ids, T0, T0 + 3 * SPAN);
    expect(cache.size).toBe(30);
    const warm = await readChunks(ctx, ids, T0, T0 + 3 * SPAN);
    expect(cache.hits).toBe(30);
    const expected = series(3 * 480, T0);
    for (const id of ids) {
      for (const got of [plain.get(id)!, cold.get(id)!, warm.get(id)!]) {
        expect(Array.from(got.timestamps)).toEqual(Array.from(expected.timestamps));
        expect(bits(got.values)).toEqual(bits(expected.values));
      }
    }
    expect(isStaleNaN(warm.get(ids[0]!)!.values[99]!)).toBe(true);
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

  it('caches the open bucket at its version too, and fetches it again once it is rewritten', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    const labels = { __name__: 'cr_open', job: 'j' };
    const all = series(480 + 150, T0);
    await store.importHistory([
      { labels, timestamps: all.timestamps.subarray(0, 580), values: all.values.subarray(0, 580) },
    ]);
    const ids = (await pool.query<{ id: number }>(`SELECT id FROM ${SCHEMA}.series WHERE metric = 'cr_open'`)).rows.map(
      (r) => r.id,
    );
    const cache = new ChunkCache(64 * 1024 * 1024);
    // the second bucket is still open at nowMs
    const ctx: ChunkReadContext = { pool, schema: SCHEMA, spanMs: SPAN, cache, nowMs: T0 + SPAN + 30 * 60_000 };
    await readChunks(ctx, ids, T0, T0 + 2 * SPAN);
    expect(cache.size).toBe(2);
    const warm = await readChunks(ctx, ids, T0, T0 + 2 * SPAN);
    expect([cache.hits, warm.get(ids[0]!)!.timestamps.length]).toEqual([2, 580]);
    // samples arrive in the open bucket: its row is rewritten with a new version
    await store.importHistory([{ labels, timestamps: all.timestamps.subarray(580), values: all.values.subarray(580) }]);
    const after = await readChunks(ctx, ids, T0, T0 + 2 * SPAN);
    expect(cache.hits).toBe(3); // the first bucket only
    expect(Array.from(after.get(ids[0]!)!.timestamps)).toEqual(Array.from(all.timestamps));
    expect(bits(after.get(ids[0]!)!.values)).toEqual(bits(all.values));
  });

  it('evicts least recently used chunks beyond its byte budget', () => {
    const chunk = (n: number) => ({ version: '1', timestamps: new Float64Array(n), values: new Float64Array(n) });
    const cache = new ChunkCache(3 * (2 * 8 * 100 + 64));
    for (const k of ['a', 'b', 'c']) cache.set(k, chunk(100));
    expect(cache.get('a', '1')).toBeDefined(); // a becomes the most recent
    cache.set('d', chunk(100));
    expect(cache.get('b', '1')).toBeUndefined();
    expect(cache.get('a', '2')).toBeUndefined(); // another row version is a miss
    expect(['a', 'c', 'd'].map((k) => cache.get(k, '1') !== undefined)).toEqual([true, true, true]);
    expect(cache.usedBytes).toBeLessThanOrEqual(cache.maxBytes);
  });
});
