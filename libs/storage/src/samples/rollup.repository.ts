import type { Pool, PoolClient, QueryArrayConfig } from 'pg';
import { StorageError } from '../errors';
import { CHUNK_BYTES_PER_STATEMENT, packedBytes, partsByBytes } from './sample-store.repository';

type Db = Pool | PoolClient;

/** The SQL of rollups (rollup.codec.ts): one row per series, resolution and stored chunk. */

export interface RollupWrite {
  seriesId: number;
  resolutionMs: number;
  startMs: number;
  data: Uint8Array;
}

/** Writes the rollups of chunks written in the same transaction (replacing the ones they had). */
export async function upsertRollups(client: PoolClient, schema: string, rows: readonly RollupWrite[]): Promise<void> {
  for (const part of partsByBytes(rows, (r) => r.data.byteLength, CHUNK_BYTES_PER_STATEMENT)) {
    const packed = packedBytes(part.map((r) => r.data));
    await client.query(
      `INSERT INTO ${schema}.rollups (series_id, resolution_ms, start_time, data)
       SELECT series_id, resolution_ms, to_timestamp(start_ms / 1000.0), substring($4::bytea FROM off + 1 FOR len)
         FROM unnest($1::int4[], $2::int4[], $3::int8[], $5::int4[], $6::int4[])
              AS u(series_id, resolution_ms, start_ms, off, len)
       ON CONFLICT (series_id, resolution_ms, start_time) DO UPDATE SET data = EXCLUDED.data`,
      [
        part.map((r) => r.seriesId),
        part.map((r) => r.resolutionMs),
        part.map((r) => r.startMs),
        packed.data,
        packed.offsets,
        packed.lengths,
      ],
    );
  }
}

/**
 * The rollup rows of `ids` at one resolution for chunks starting in [fromMs, toMs), one result row
 * per series: its rows in start order, each as the chunk start (int8, big-endian) followed by the
 * row's data (decodeRollupRows reads it back). PostgreSQL concatenates, so a week of an hourly
 * rollup is one row per series instead of 84, and the data travels as base64 (node-postgres
 * reads bytea as hex text, twice the size).
 */
export async function selectRollupRows(
  db: Db,
  schema: string,
  ids: readonly number[],
  resolutionMs: number,
  fromMs: number,
  toMs: number,
): Promise<{ seriesIds: number[]; data: Buffer[] }> {
  // Binary results (node-postgres reads `binary`; its types do not declare it): the bytes as they
  // are, an int4 still as a number. node-postgres then sends parameters in binary too, which it
  // cannot do for these, so the numbers go into the text, each checked to be an integer first.
  for (const n of [...ids, resolutionMs, fromMs, toMs])
    if (!Number.isSafeInteger(n)) throw new StorageError('INVALID_BATCH', `not an integer: ${n}`);
  const query: QueryArrayConfig & { binary: boolean } = {
    binary: true,
    text: `SELECT series_id,
                  string_agg(int8send((extract(epoch FROM start_time) * 1000)::int8) || data, ''::bytea ORDER BY start_time)
             FROM ${schema}.rollups
            WHERE series_id = ANY('{${ids.join(',')}}'::int4[]) AND resolution_ms = ${resolutionMs}
              AND start_time >= to_timestamp(${fromMs}::int8 / 1000.0) AND start_time < to_timestamp(${toMs}::int8 / 1000.0)
            GROUP BY series_id`,
    rowMode: 'array',
  };
  const { rows } = await db.query<unknown[]>(query);
  const out = { seriesIds: [] as number[], data: [] as Buffer[] };
  for (const r of rows) {
    out.seriesIds.push(r[0] as number);
    out.data.push(r[1] as Buffer);
  }
  return out;
}

/** The earliest sample time in the head (not compacted yet), or undefined when it is empty. */
export async function headMinTs(db: Db, schema: string): Promise<number | undefined> {
  const { rows } = await db.query<{ min: string | null }>(`SELECT min(min_ts) AS min FROM ${schema}.head`);
  return rows[0]?.min == null ? undefined : Number(rows[0].min);
}

/**
 * Registers a resolution: complete at once when no chunk is stored yet (every chunk from now on
 * is written with its rollup), otherwise once the backfill has built the missing ones.
 */
export async function rollupLevelComplete(db: Db, schema: string, resolutionMs: number): Promise<boolean> {
  await db.query(
    `INSERT INTO ${schema}.rollup_levels (resolution_ms, complete)
     SELECT $1, NOT EXISTS (SELECT 1 FROM ${schema}.chunks) ON CONFLICT (resolution_ms) DO NOTHING`,
    [resolutionMs],
  );
  return rollupLevelIsComplete(db, schema, resolutionMs);
}

/** Whether a resolution is registered and complete (a read only: queries ask this). */
export async function rollupLevelIsComplete(db: Db, schema: string, resolutionMs: number): Promise<boolean> {
  const { rows } = await db.query<{ complete: boolean }>(
    `SELECT complete FROM ${schema}.rollup_levels WHERE resolution_ms = $1`,
    [resolutionMs],
  );
  return rows[0]?.complete === true;
}

export async function markRollupLevelComplete(db: Db, schema: string, resolutionMs: number): Promise<void> {
  await db.query(`UPDATE ${schema}.rollup_levels SET complete = true WHERE resolution_ms = $1`, [resolutionMs]);
}

/** Up to `limit` stored chunks that have no rollup at the resolution yet (the backfill's work). */
export async function chunksWithoutRollup(
  client: PoolClient,
  schema: string,
  resolutionMs: number,
  limit: number,
): Promise<{ series_id: number; start_ms: string; count: number; data: Buffer }[]> {
  const { rows } = await client.query<{ series_id: number; start_ms: string; count: number; data: Buffer }>(
    `SELECT c.series_id, (extract(epoch FROM c.start_time) * 1000)::int8 AS start_ms, c.count, c.data
       FROM ${schema}.chunks c
      WHERE NOT EXISTS (SELECT 1 FROM ${schema}.rollups r
                         WHERE r.series_id = c.series_id AND r.resolution_ms = $1 AND r.start_time = c.start_time)
      LIMIT $2`,
    [resolutionMs, limit],
  );
  return rows;
}

/** Drops rollups of chunks that start before `beforeMs` (their chunks went with retention). */
export async function deleteRollupsBefore(db: Db, schema: string, beforeMs: number): Promise<number> {
  const r = await db.query(`DELETE FROM ${schema}.rollups WHERE start_time < to_timestamp($1::int8 / 1000.0)`, [
    beforeMs,
  ]);
  return r.rowCount ?? 0;
}
