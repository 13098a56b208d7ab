import type { TestDatabase } from '@arcwatch/testing';
import type { Pool } from 'pg';
import { RollupColumns, decodeRollupPieces } from './rollup.codec';
import { ROLLUP_REVALIDATE_MS, RollupCache, readRollupRows, type RollupReadContext } from './rollup-read';
import { SampleStore } from './sample-store';
import { closeSampleStoreDb, openSampleStoreDb, seriesIdsOf } from '../testing/sample-store-db';

const SCHEMA = 'rollupread';
const T0 = Date.UTC(2025, 2, 10, 10, 0, 0); // on a 2 h bucket boundary
const STEP = 60_000;
const SPAN = 2 * 3_600_000;
const HOUR = 3_600_000;
let db: TestDatabase;
let pool: Pool;
const now = T0 + 4 * SPAN;
const clock = () => now;

function series(n: number, from: number, scale = 1): { timestamps: Float64Array; values: Float64Array } {
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    timestamps[i] = from + i * STEP;
    values[i] = ((i * 7) % 13) * scale;
  }
  return { timestamps, values };
}

beforeAll(async () => {
  ({ db, pool } = await openSampleStoreDb(SCHEMA));
});

afterAll(() => closeSampleStoreDb(db, pool));

const idsOf = (metric: string): Promise<number[]> => seriesIdsOf(pool, SCHEMA, metric);

/** What a read gives, decoded per series (the form selectRollups builds on). */
function decoded(rows: Map<number, Uint8Array[]>): Map<number, unknown> {
  const out = new Map<number, unknown>();
  for (const [id, pieces] of rows) {
    const c = new RollupColumns();
    decodeRollupPieces(c, pieces);
    out.set(id, c.toSeriesData({}));
  }
  return out;
}

describe('rollup reads', () => {
  it('keep the rows per bucket, serve them again while the bucket keeps its change number, fetch a bucket written since', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    // 6 series × 3 buckets of one sample a minute
    await store.importHistory(
      Array.from({ length: 6 }, (_, k) => ({ labels: { __name__: 'rr_gauge', k: String(k) }, ...series(360, T0) })),
    );
    const ids = await idsOf('rr_gauge');
    const cache = new RollupCache(64 * 1024 * 1024);
    const ctx: RollupReadContext = { pool, schema: SCHEMA, spanMs: SPAN, cache, nowMs: now };
    const uncached = { ...ctx, cache: undefined };
    const plain = decoded(await readRollupRows(uncached, ids, HOUR, T0, T0 + 3 * SPAN));
    expect(plain.size).toBe(6);

    const cold = decoded(await readRollupRows(ctx, ids, HOUR, T0, T0 + 3 * SPAN));
    expect(cold).toEqual(plain);
    expect([cache.hits, cache.misses]).toEqual([0, 18]); // 6 series × 3 buckets, fetched
    const warm = decoded(await readRollupRows(ctx, ids, HOUR, T0, T0 + 3 * SPAN));
    expect(warm).toEqual(plain);
    expect([cache.hits, cache.misses]).toEqual([18, 18]); // all from memory

    // New samples in the second bucket of series 0: that bucket gets a new change number.
    await store.importHistory([{ labels: { __name__: 'rr_gauge', k: '0' }, ...series(30, T0 + SPAN + 30 * 1000, 3) }]);
    const after = decoded(await readRollupRows(ctx, ids, HOUR, T0, T0 + 3 * SPAN));
    expect(after).toEqual(decoded(await readRollupRows(uncached, ids, HOUR, T0, T0 + 3 * SPAN)));
    expect(after.get(ids[0]!)).not.toEqual(plain.get(ids[0]!));
    expect(after.get(ids[1]!)).toEqual(plain.get(ids[1]!));
    // the first and third buckets from memory, the second fetched again for all six
    expect([cache.hits, cache.misses]).toEqual([18 + 12, 18 + 6]);

    // A narrower window and a subset of the series: from memory.
    await readRollupRows(ctx, ids.slice(0, 2), HOUR, T0 + SPAN, T0 + 3 * SPAN);
    expect([cache.hits, cache.misses]).toEqual([30 + 4, 24]);
  });

  it('fetch only the series a kept bucket was not asked for', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    await store.importHistory(
      Array.from({ length: 4 }, (_, k) => ({ labels: { __name__: 'rr_more', k: String(k) }, ...series(240, T0) })),
    );
    const ids = await idsOf('rr_more');
    const cache = new RollupCache(64 * 1024 * 1024);
    const ctx: RollupReadContext = { pool, schema: SCHEMA, spanMs: SPAN, cache, nowMs: now };
    await readRollupRows(ctx, ids.slice(0, 2), HOUR, T0, T0 + 2 * SPAN);
    expect([cache.hits, cache.misses]).toEqual([0, 4]);
    const all = await readRollupRows(ctx, ids, HOUR, T0, T0 + 2 * SPAN);
    expect([cache.hits, cache.misses]).toEqual([4, 8]);
    expect(decoded(all)).toEqual(
      decoded(await readRollupRows({ ...ctx, cache: undefined }, ids, HOUR, T0, T0 + 2 * SPAN)),
    );
  });

  it('fetch a kept bucket again after the revalidation interval, whatever its change number says', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    await store.importHistory([{ labels: { __name__: 'rr_hand', k: '0' }, ...series(120, T0) }]);
    const ids = await idsOf('rr_hand');
    const cache = new RollupCache(64 * 1024 * 1024);
    const ctx: RollupReadContext = { pool, schema: SCHEMA, spanMs: SPAN, cache, nowMs: now };
    const before = decoded(await readRollupRows(ctx, ids, HOUR, T0, T0 + SPAN));
    // a change no change number records (a hand-made UPDATE): the row of series 0 of rr_gauge in
    // its second bucket, whose samples a test above changed
    const other = await idsOf('rr_gauge');
    await pool.query(
      `UPDATE ${SCHEMA}.rollups SET data = (SELECT data FROM ${SCHEMA}.rollups WHERE series_id = $2 AND start_time = to_timestamp($3 / 1000.0))
        WHERE series_id = $1`,
      [ids[0], other[0], T0 + SPAN],
    );
    expect(decoded(await readRollupRows(ctx, ids, HOUR, T0, T0 + SPAN))).toEqual(before);
    const later = decoded(
      await readRollupRows({ ...ctx, nowMs: now + ROLLUP_REVALIDATE_MS }, ids, HOUR, T0, T0 + SPAN),
    );
    expect(later).not.toEqual(before);
    expect(later).toEqual(decoded(await readRollupRows({ ...ctx, cache: undefined }, ids, HOUR, T0, T0 + SPAN)));
  });

  it('see the rows the rollup backfill writes: it gives their buckets new change numbers', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock });
    const ids = await idsOf('rr_hand');
    const change = async () =>
      (await pool.query<{ change: string }>(`SELECT change FROM ${SCHEMA}.chunk_changes WHERE start_ms = $1`, [T0]))
        .rows[0]?.change;
    const before = await change();
    // a chunk without its rollup, as a store from before rollups has them, and the level not complete
    await pool.query(`DELETE FROM ${SCHEMA}.rollups WHERE series_id = $1 AND start_time = to_timestamp($2 / 1000.0)`, [
      ids[0],
      T0,
    ]);
    await pool.query(`UPDATE ${SCHEMA}.rollup_levels SET complete = false`);
    expect(await store.buildRollups()).toBe(1);
    expect(await change()).not.toBe(before);
  });

  it('stay within their byte budget, least recently used first', async () => {
    const ids = await idsOf('rr_gauge');
    const small = new RollupCache(4_000);
    const ctx: RollupReadContext = { pool, schema: SCHEMA, spanMs: SPAN, cache: small, nowMs: now };
    await readRollupRows(ctx, ids, HOUR, T0, T0 + 3 * SPAN);
    expect(small.size).toBeLessThanOrEqual(4_000);
    expect(small.size).toBeGreaterThan(0);
  });
});
