import type { TestDatabase } from '@arcwatch/testing';
import fc from 'fast-check';
import type { Pool, PoolClient } from 'pg';
import { ensurePartitionsCovering } from '../partitioning/partitions';
import { withTransaction } from '../pool';
import { SampleStore } from './sample-store';
import { partsByBytes, upsertChunks, writeChunks, type ChunkWrite } from './sample-store.repository';
import { StorageError } from '../errors';
import { encodeChunk } from './chunk.codec';
import { wordsOf } from './sample-merge';
import { closeSampleStoreDb, openSampleStoreDb } from '../testing/sample-store-db';

const SCHEMA = 'chunkwrite';
const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
let db: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  ({ db, pool } = await openSampleStoreDb(SCHEMA, 2));
  await ensurePartitionsCovering(pool, `${SCHEMA}.chunks`, T0, T0 + 3_600_000);
});

afterAll(() => closeSampleStoreDb(db, pool));

function chunk(seriesId: number, n: number): ChunkWrite {
  const ts = Float64Array.from({ length: n }, (_, i) => T0 + i * 1000);
  const values = Float64Array.from(ts, (_, i) => Math.round(Math.sin(seriesId + i) * 1e6) / 1e6);
  return { seriesId, startMs: T0, endMs: ts[n - 1]!, count: n, data: encodeChunk(ts, wordsOf(values), n) };
}

describe('writing chunks', () => {
  it('cuts rows into runs of at most the byte budget, in order, a larger row alone', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 })), fc.integer({ min: 1, max: 60 }), (sizes, max) => {
        const parts = partsByBytes(sizes, (s) => s, max);
        expect(parts.flat()).toEqual(sizes);
        for (const p of parts) {
          expect(p.length).toBeGreaterThan(0);
          if (p.length > 1) expect(p.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(max);
        }
        // a run ends only where the next row would not fit
        for (let i = 0; i + 1 < parts.length; i++)
          expect(parts[i]!.reduce((a, b) => a + b, 0) + parts[i + 1]![0]!).toBeGreaterThan(max);
      }),
    );
  });

  it('writes a transaction of chunks larger than one statement may carry: every row, in several INSERTs', async () => {
    const rows = Array.from({ length: 12 }, (_, i) => chunk(i + 1, 200 + 40 * i));
    const budget = 3 * rows[5]!.data.byteLength;
    const statements: string[] = [];
    await withTransaction(pool, async (client) => {
      const counting = new Proxy(client, {
        get(target, prop, receiver) {
          if (prop !== 'query') return Reflect.get(target, prop, receiver) as unknown;
          return (text: string, values?: unknown[]) => {
            statements.push(text);
            return target.query(text, values);
          };
        },
      }) as PoolClient;
      await upsertChunks(counting, SCHEMA, rows, budget);
    });
    const inserts = statements.filter((s) => s.includes(`INSERT INTO ${SCHEMA}.chunks`));
    expect(inserts.length).toBe(partsByBytes(rows, (r) => r.data.byteLength, budget).length);
    expect(inserts.length).toBeGreaterThan(3);
    const { rows: stored } = await pool.query<{ series_id: number; count: number; data: Buffer }>(
      `SELECT series_id, count, data FROM ${SCHEMA}.chunks ORDER BY series_id`,
    );
    expect(stored.map((r) => [r.series_id, r.count, r.data.toString('hex')])).toEqual(
      rows.map((r) => [r.seriesId, r.count, Buffer.from(r.data).toString('hex')]),
    );
    // one change number for the bucket, stamped once for all the statements
    const { rows: changes } = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${SCHEMA}.chunk_changes WHERE start_ms = $1`,
      [T0],
    );
    expect(Number(changes[0]!.n)).toBe(1);
  });

  it('creates chunk partitions that keep rows inline up to nearly a page', async () => {
    const store = new SampleStore(pool, { schema: SCHEMA, clock: () => T0 });
    const res = await store.ensurePartitions({ daysAhead: 1 });
    expect(res.created.length).toBeGreaterThan(0);
    const { rows } = await pool.query<{ relname: string; reloptions: string[] | null }>(
      `SELECT c.relname, c.reloptions FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = '${SCHEMA}.chunks'::regclass ORDER BY c.relname`,
    );
    const created = rows.filter((r) => res.created.includes(r.relname));
    expect(created.map((r) => r.reloptions)).toEqual(res.created.map(() => ['toast_tuple_target=8160']));
  });
});

describe('compaction appending to the chunks it wrote', () => {
  const LABELS = { job: 'append', instance: 'i' };
  // Values no decimal chunk holds exactly: XOR chunks, whose appends equal encoding all together.
  const value = (series: number, i: number) => Math.sin(series * 1000 + i) * 1e3;

  function pass(store: SampleStore, id: string, from: number, n: number) {
    const series = [1, 2].map((k) => ({
      labels: { __name__: `appended_${k}`, ...LABELS },
      samples: Array.from({ length: n }, (_, i) => [T0 + (from + i) * 1000, value(k, from + i)] as [number, number]),
    }));
    return store.appendBatch({
      batchId: id,
      source: 'scrape',
      cluster: 'c1',
      node: 'n1',
      target: { job: 'append', instance: 'i' },
      scrapedAtMs: T0 + from * 1000,
      series,
    });
  }

  /** Every statement the store's transactions send, through a pool that records them. */
  function recording(target: Pool): { pool: Pool; statements: string[] } {
    const statements: string[] = [];
    const wrap = (client: PoolClient) =>
      new Proxy(client, {
        get(c, prop, receiver) {
          if (prop !== 'query') return Reflect.get(c, prop, receiver) as unknown;
          return (text: unknown, values?: unknown[]) => {
            statements.push(typeof text === 'string' ? text : String((text as { text?: string }).text));
            return c.query(text as string, values);
          };
        },
      });
    const proxied = new Proxy(target, {
      get(p, prop, receiver) {
        if (prop !== 'connect') return Reflect.get(p, prop, receiver) as unknown;
        // pool.query connects with a callback: those statements pass unrecorded
        return (...args: unknown[]) =>
          args.length > 0 ? (p.connect as (...a: unknown[]) => unknown)(...args) : p.connect().then(wrap);
      },
    });
    return { pool: proxied, statements };
  }

  async function storedChunks(metric: string): Promise<Array<{ count: number; data: string }>> {
    const { rows } = await pool.query<{ count: number; data: Buffer }>(
      `SELECT c.count, c.data FROM ${SCHEMA}.chunks c JOIN ${SCHEMA}.series s ON s.id = c.series_id
        WHERE s.metric = $1 AND s.labels @> $2::jsonb`,
      [metric, JSON.stringify(LABELS)],
    );
    return rows.map((r) => ({ count: r.count, data: r.data.toString('hex') }));
  }

  function encodedTogether(series: number, n: number): string {
    const ts = Float64Array.from({ length: n }, (_, i) => T0 + i * 1000);
    const values = Float64Array.from({ length: n }, (_, i) => value(series, i));
    return Buffer.from(encodeChunk(ts, wordsOf(values), n)).toString('hex');
  }

  async function readBack(store: SampleStore, series: number): Promise<number[]> {
    const [s] = await store.select(
      [
        { name: '__name__', type: '=', value: `appended_${series}` },
        { name: 'job', type: '=', value: 'append' },
      ],
      T0,
      T0 + 3_600_000,
    );
    return Array.from(s!.values);
  }

  beforeEach(async () => {
    await pool.query(`DELETE FROM ${SCHEMA}.chunks WHERE start_time = to_timestamp($1 / 1000.0)`, [T0]);
  });

  it('sends only the new bytes after its first pass, and stores what encoding every sample together gives', async () => {
    const rec = recording(pool);
    const store = new SampleStore(rec.pool, { schema: SCHEMA, clock: () => T0 + 3_600_000 });
    let n = 0;
    for (const [k, size] of [7, 40, 1, 25].entries()) {
      await pass(store, `append-${k}`, n, size);
      n += size;
      rec.statements.length = 0;
      await store.compact(0);
      const updates = rec.statements.filter((q) => q.includes(`UPDATE ${SCHEMA}.chunks`));
      const reads = rec.statements.filter((q) => /SELECT c\.series_id.*c\.data\s/s.test(q));
      // the first pass writes whole chunks; every later one appends from the state it kept
      expect([updates.length, reads.length]).toEqual(k === 0 ? [0, 0] : [1, 0]);
      for (const series of [1, 2])
        expect(await storedChunks(`appended_${series}`)).toEqual([{ count: n, data: encodedTogether(series, n) }]);
    }
    expect(await readBack(store, 2)).toEqual(Array.from({ length: n }, (_, i) => value(2, i)));
  });

  it('reads and merges a chunk another writer changed since, instead of appending to it', async () => {
    const mine = new SampleStore(pool, { schema: SCHEMA, clock: () => T0 + 3_600_000 });
    const other = new SampleStore(pool, { schema: SCHEMA, clock: () => T0 + 3_600_000 });
    await pass(mine, 'other-0', 0, 10);
    await mine.compact(0);
    await pass(other, 'other-1', 10, 5);
    await other.compact(0);
    await pass(mine, 'other-2', 15, 8);
    await mine.compact(0);
    for (const series of [1, 2])
      expect(await storedChunks(`appended_${series}`)).toEqual([{ count: 23, data: encodedTogether(series, 23) }]);
    expect(await readBack(mine, 1)).toEqual(Array.from({ length: 23 }, (_, i) => value(1, i)));
  });

  it('refuses an append to a row that is no longer the one it was computed for, writing nothing', async () => {
    const row = chunk(9, 30);
    await withTransaction(pool, (client) => upsertChunks(client, SCHEMA, [row]));
    const append = {
      seriesId: 9,
      startMs: T0,
      endMs: T0 + 40_000,
      count: 31,
      keep: 4,
      suffix: Uint8Array.of(1, 2, 3),
      fromCount: 30,
      fromBytes: row.data.byteLength + 1, // not the stored row
    };
    const err = await withTransaction(pool, (client) => writeChunks(client, SCHEMA, [], [append])).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('CHUNK_CHANGED');
    const { rows } = await pool.query<{ count: number; data: Buffer }>(
      `SELECT count, data FROM ${SCHEMA}.chunks WHERE series_id = 9`,
    );
    expect(rows.map((r) => [r.count, r.data.toString('hex')])).toEqual([[30, Buffer.from(row.data).toString('hex')]]);
  });
});
