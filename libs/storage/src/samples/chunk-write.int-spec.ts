import type { TestDatabase } from '@arcwatch/testing';
import fc from 'fast-check';
import type { Pool, PoolClient } from 'pg';
import { ensurePartitionsCovering } from '../partitioning/partitions';
import { withTransaction } from '../pool';
import { SampleStore } from './sample-store';
import { partsByBytes, upsertChunks, type ChunkWrite } from './sample-store.repository';
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
