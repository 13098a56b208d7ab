import type { MetricsBatchV1, SeriesData } from '@arcwatch/contracts';
import type { TestDatabase } from '@arcwatch/testing';
import type { Pool } from 'pg';
import { HeadCache, collectHeadParts, seriesBitmap } from './head-cache';
import { SampleStore } from './sample-store';
import { closeSampleStoreDb, openSampleStoreDb } from '../testing/sample-store-db';

const SCHEMA = 'heads';
const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
let db: TestDatabase;
let pool: Pool;
let now = T0;
const clock = () => now;

/** One scrape of a two-GPU target at `t`: utilisation and temperature per GPU. */
function scrape(node: string, t: number, v: number): MetricsBatchV1 {
  const series = ['0', '1'].flatMap((gpu) => [
    { labels: { __name__: 'gpu_util', node, gpu }, samples: [[t, v + Number(gpu)]] as [number, number][] },
    { labels: { __name__: 'gpu_temp', node, gpu }, samples: [[t, 40 + v]] as [number, number][] },
  ]);
  return {
    batchId: `${node}-${t}`,
    source: 'scrape',
    cluster: 'c1',
    node,
    target: { job: 'dcgm', instance: node },
    scrapedAtMs: t,
    series,
  };
}

const util = [{ name: '__name__', type: '=', value: 'gpu_util' }] as const;
const text = (d: SeriesData[]) =>
  JSON.stringify(d.map((s) => [s.labels, Array.from(s.timestamps), Array.from(s.values)]));

beforeAll(async () => {
  ({ db, pool } = await openSampleStoreDb(SCHEMA));
});

afterAll(() => closeSampleStoreDb(db, pool));

describe('head cache', () => {
  it('reads what an uncached store reads while another process writes and compacts', async () => {
    const writer = new SampleStore(pool, { schema: SCHEMA, clock });
    const cached = new SampleStore(pool, { schema: SCHEMA, clock });
    const uncached = new SampleStore(pool, { schema: SCHEMA, clock, headCacheBytes: 0 });
    const same = async (from: number, to: number) => {
      const a = await cached.select([...util], from, to);
      expect(text(a)).toBe(text(await uncached.select([...util], from, to)));
      return a;
    };
    for (let i = 0; i < 6; i++) {
      now = T0 + i * 5_000;
      await writer.appendBatches([scrape('n1', now, i), scrape('n2', now, 10 + i)]);
      const got = await same(now - 300_000, now);
      expect(got.map((s) => s.timestamps.length)).toEqual([i + 1, i + 1, i + 1, i + 1]);
      expect(got[0]!.values.at(-1)).toBe(i);
    }
    // compaction elsewhere moves the older rows into chunks: the cache drops them, reads stay equal
    now = T0 + 60_000;
    await writer.compact(40_000);
    const got = await same(T0 - 300_000, now);
    expect(Array.from(got[0]!.values)).toEqual([0, 1, 2, 3, 4, 5]);
    await same(T0 + 10_000, T0 + 20_000);
    // a batch sent again under another id (its samples already in a chunk) is read once
    await writer.appendBatches([{ ...scrape('n1', T0, 0), batchId: 'n1-again' }]);
    expect(Array.from((await same(T0 - 300_000, now))[0]!.timestamps)).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => T0 + i * 5_000),
    );
    // the series API reads the head through the cache too
    const series = await cached.series([[...util]], T0 + 24_000, T0 + 26_000);
    expect(series.map((l) => `${l.node}/${l.gpu}`)).toEqual(['n1/0', 'n1/1', 'n2/0', 'n2/1']);
    expect(await cached.series([[...util]], T0 + 26_000, T0 + 29_000)).toEqual([]);
  });

  it('keeps only rows the head still lists, and reports a row compacted away between list and fetch', async () => {
    await pool.query(`DELETE FROM ${SCHEMA}.head`);
    const writer = new SampleStore(pool, { schema: SCHEMA, clock });
    now = T0 + 3_600_000;
    await writer.appendBatches([scrape('n1', now, 1), scrape('n2', now, 2), scrape('n3', now - 1_000, 3)]);
    const cache = new HeadCache(1 << 20);
    const rows = await cache.read(pool, SCHEMA, now - 300_000, now);
    expect(rows).toHaveLength(3);
    expect([cache.size, cache.fetched, cache.hits]).toEqual([3, 3, 0]);
    // in time order, so each series' samples need no sort
    const parts = collectHeadParts(rows!, seriesBitmap(Array.from({ length: 20 }, (_, i) => i + 1)));
    for (const [, [p]] of parts) expect(p!.timestamps.length).toBe(1);

    await pool.query(`DELETE FROM ${SCHEMA}.head WHERE batch_id = $1`, [`n2-${now}`]);
    expect(await cache.read(pool, SCHEMA, now - 300_000, now)).toHaveLength(2);
    expect([cache.size, cache.fetched, cache.hits]).toEqual([2, 3, 2]);

    // a listed row deleted before its payload is fetched: the caller must read again
    await writer.appendBatches([scrape('n4', now, 4)]);
    const racing = {
      query: async (q: { text: string }, ...rest: unknown[]) => {
        if (q.text.includes('ANY($1::text[])'))
          await pool.query(`DELETE FROM ${SCHEMA}.head WHERE batch_id = $1`, [`n4-${now}`]);
        return (pool.query as (...a: unknown[]) => Promise<unknown>)(q, ...rest);
      },
    } as unknown as Pool;
    expect(await cache.read(racing, SCHEMA, now - 300_000, now)).toBeUndefined();
    expect(await cache.read(pool, SCHEMA, now - 300_000, now)).toHaveLength(2);
  });

  it('lists only the rows of its window, and forgets cached rows that end before the oldest one left', async () => {
    await pool.query(`DELETE FROM ${SCHEMA}.head`);
    const writer = new SampleStore(pool, { schema: SCHEMA, clock });
    now = T0 + 7_200_000;
    // ten rows a second apart, the last at `now`
    for (let i = 0; i < 10; i++) await writer.appendBatches([scrape('n1', now - (9 - i) * 1_000, i)]);
    const cache = new HeadCache(1 << 20);
    const last3 = await cache.read(pool, SCHEMA, now - 2_500, now);
    expect(last3!.map((p) => p.timestamps[0])).toEqual([now - 2_000, now - 1_000, now]);
    expect([cache.size, cache.fetched, cache.hits]).toEqual([3, 3, 0]);
    expect(await cache.read(pool, SCHEMA, now - 60_000, now)).toHaveLength(10);
    expect([cache.size, cache.fetched, cache.hits]).toEqual([10, 10, 3]);
    // compaction takes the five oldest: a read of the last second alone forgets them
    await pool.query(`DELETE FROM ${SCHEMA}.head WHERE max_ts < $1`, [now - 4_500]);
    expect(await cache.read(pool, SCHEMA, now - 500, now)).toHaveLength(1);
    expect([cache.size, cache.hits]).toEqual([5, 4]);
    // windows at the edges of what an int8 holds are read, not refused
    expect(await cache.read(pool, SCHEMA, -Infinity, Infinity)).toHaveLength(5);
    expect(await cache.read(pool, SCHEMA, now - 1_000.5, now - 0.25)).toHaveLength(2);
  });
});
