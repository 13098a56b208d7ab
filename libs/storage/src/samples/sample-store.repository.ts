import type { Pool, PoolClient } from 'pg';
import { StorageError } from '../errors';

type Db = Pool | PoolClient;

/**
 * Every SQL statement of the sample store. `schema` is validated once by SampleStore
 * (assertIdentifier). Times in the head are int8 milliseconds; chunk times are timestamptz so
 * that SQL readers can use date_bin() on them and partitions prune by range.
 */

export interface SeriesRow {
  id: number;
  metric: string;
  labels: Record<string, string>;
}

export interface NewSeriesRow {
  metric: string;
  labelsJson: string;
  hash: Buffer;
}

/** Inserts catalog rows; returns the id of every requested hash (new or already there). */
export async function upsertSeries(
  db: Db,
  schema: string,
  rows: readonly NewSeriesRow[],
): Promise<{ id: number; hash: Buffer; created: boolean }[]> {
  const inserted = await db.query<{ id: number; labels_hash: Buffer }>(
    `INSERT INTO ${schema}.series (metric, labels, labels_hash)
     SELECT * FROM unnest($1::text[], $2::jsonb[], $3::bytea[])
     ON CONFLICT (labels_hash) DO NOTHING
     RETURNING id, labels_hash`,
    [rows.map((r) => r.metric), rows.map((r) => r.labelsJson), rows.map((r) => r.hash)],
  );
  const out = inserted.rows.map((r) => ({ id: r.id, hash: r.labels_hash, created: true }));
  if (out.length < rows.length) {
    // someone else (another writer) created the rest first
    const got = new Set(out.map((r) => r.hash.toString('hex')));
    const missing = rows.filter((r) => !got.has(r.hash.toString('hex'))).map((r) => r.hash);
    const existing = await db.query<{ id: number; labels_hash: Buffer }>(
      `SELECT id, labels_hash FROM ${schema}.series WHERE labels_hash = ANY($1::bytea[])`,
      [missing],
    );
    for (const r of existing.rows) out.push({ id: r.id, hash: r.labels_hash, created: false });
  }
  return out;
}

/** Catalog rows above `afterId`, plus the listed ids (gaps that may since have committed). */
export async function loadSeries(
  db: Db,
  schema: string,
  afterId: number,
  gapIds: readonly number[],
): Promise<SeriesRow[]> {
  const { rows } = await db.query<SeriesRow>(
    `SELECT id, metric, labels FROM ${schema}.series WHERE id > $1 OR id = ANY($2::int4[]) ORDER BY id`,
    [afterId, gapIds],
  );
  return rows;
}

export interface HeadRowInput {
  batchId: string;
  minTs: number;
  maxTs: number;
  samples: number;
  payload: Uint8Array;
}

/**
 * Records the batches and their head rows in one statement: a batch id already in batch_log
 * (a redelivery, before or after compaction) inserts nothing. Returns the ids inserted.
 */
export async function insertBatches(db: Db, schema: string, rows: readonly HeadRowInput[]): Promise<string[]> {
  const { rows: out } = await db.query<{ batch_id: string }>(
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int4[], $5::bytea[])
         AS u(batch_id, min_ts, max_ts, samples, payload)
     ), logged AS (
       INSERT INTO ${schema}.batch_log (batch_id, max_ts)
       SELECT batch_id, max_ts FROM input
       ON CONFLICT (batch_id) DO NOTHING
       RETURNING batch_id
     )
     INSERT INTO ${schema}.head (batch_id, min_ts, max_ts, samples, payload)
     SELECT i.batch_id, i.min_ts, i.max_ts, i.samples, i.payload FROM input i JOIN logged l USING (batch_id)
     RETURNING batch_id`,
    [
      rows.map((r) => r.batchId),
      rows.map((r) => r.minTs),
      rows.map((r) => r.maxTs),
      rows.map((r) => r.samples),
      rows.map((r) => Buffer.from(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength)),
    ],
  );
  return out.map((r) => r.batch_id);
}

/** Only one compactor per schema at a time; the others skip their turn. */
export async function tryCompactionLock(client: PoolClient, schema: string): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok`, [
    `arcwatch.compact.${schema}`,
  ]);
  return rows[0]?.ok === true;
}

/** The compactor's lock, waited for: bulk imports rewrite the same chunk rows. */
export async function waitCompactionLock(client: PoolClient, schema: string): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`arcwatch.compact.${schema}`]);
}

/** Removes up to `limit` head rows that ended before `cutoffMs` and returns their payloads. */
export async function takeHeadRows(
  client: PoolClient,
  schema: string,
  cutoffMs: number,
  limit: number,
): Promise<Buffer[]> {
  const { rows } = await client.query<{ payload: Buffer }>(
    `DELETE FROM ${schema}.head
      WHERE batch_id IN (SELECT batch_id FROM ${schema}.head WHERE max_ts < $1 ORDER BY max_ts LIMIT $2)
      RETURNING payload`,
    [cutoffMs, limit],
  );
  return rows.map((r) => r.payload);
}

/** Time span of the head rows that a compaction with this cutoff would take. */
export async function headSpan(
  db: Db,
  schema: string,
  cutoffMs: number,
): Promise<{ min: number; max: number } | undefined> {
  const { rows } = await db.query<{ min: string | null; max: string | null }>(
    `SELECT min(min_ts) AS min, max(max_ts) AS max FROM ${schema}.head WHERE max_ts < $1`,
    [cutoffMs],
  );
  const r = rows[0];
  return r?.min == null || r.max == null ? undefined : { min: Number(r.min), max: Number(r.max) };
}

export interface ChunkRow {
  series_id: number;
  start_ms: string;
  count: number;
  data: Buffer;
}

/** The chunks at exactly these (series, bucket start) keys, for merging new samples in. */
export async function chunksAt(
  client: PoolClient,
  schema: string,
  seriesIds: readonly number[],
  startMs: readonly number[],
): Promise<ChunkRow[]> {
  const { rows } = await client.query<ChunkRow>(chunksAtSql(schema, 'c.data'), [seriesIds, startMs]);
  return rows;
}

/** Each chunk row at the keys ($1 series ids, $2 bucket starts in ms): its key, count and `column`. */
function chunksAtSql(schema: string, column: string): string {
  return `SELECT c.series_id, (extract(epoch FROM c.start_time) * 1000)::int8 AS start_ms, c.count, ${column}
       FROM unnest($1::int4[], $2::int8[]) AS k(series_id, start_ms)
       JOIN ${schema}.chunks c ON c.series_id = k.series_id AND c.start_time = to_timestamp(k.start_ms / 1000.0)`;
}

/**
 * The sample count and byte length of the chunks at these keys, without their bytes: a toasted
 * chunk's length comes from its TOAST pointer, so a compaction that appends from known states
 * (ChunkStates) reads no chunk data at all.
 */
export async function chunkSizesAt(
  client: PoolClient,
  schema: string,
  seriesIds: readonly number[],
  startMs: readonly number[],
): Promise<Array<{ series_id: number; start_ms: string; count: number; bytes: number }>> {
  const { rows } = await client.query<{ series_id: number; start_ms: string; count: number; bytes: number }>(
    chunksAtSql(schema, 'octet_length(c.data) AS bytes'),
    [seriesIds, startMs],
  );
  return rows;
}

export interface ChunkWrite {
  seriesId: number;
  startMs: number;
  endMs: number;
  count: number;
  data: Uint8Array;
}

/**
 * Chunk (or rollup) bytes per INSERT. A 1 s fleet late in a 2 h bucket holds ~13 KB per chunk, so
 * one compaction transaction of 27,500 chunks is ~360 MB: sent whole, as a bytea[] parameter once
 * was, its hex text passed V8's 512 MB string limit. In statements of at most this much, each
 * statement's parameter (packedBytes) stays a modest buffer on both sides.
 */
export const CHUNK_BYTES_PER_STATEMENT = 32 * 1024 * 1024;

/** `rows` cut, in order, into runs whose `bytes` add up to at most `maxBytes` (a larger row alone). */
export function partsByBytes<T>(rows: readonly T[], bytes: (row: T) => number, maxBytes: number): T[][] {
  const parts: T[][] = [];
  let part: T[] = [];
  let size = 0;
  for (const r of rows) {
    const b = bytes(r);
    if (part.length > 0 && size + b > maxBytes) {
      parts.push(part);
      part = [];
      size = 0;
    }
    part.push(r);
    size += b;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

/**
 * Byte strings as ONE bytea parameter, which node-postgres sends in binary, with where each one
 * lies in it (for `substring($n::bytea FROM off + 1 FOR len)`). A bytea[] parameter would travel as
 * hex text: twice the bytes, built in JavaScript and parsed by the server.
 */
export function packedBytes(items: readonly Uint8Array[]): { data: Buffer; offsets: number[]; lengths: number[] } {
  const offsets: number[] = [];
  const lengths: number[] = [];
  let at = 0;
  for (const b of items) {
    offsets.push(at);
    lengths.push(b.byteLength);
    at += b.byteLength;
  }
  const data = Buffer.allocUnsafe(at);
  items.forEach((b, i) => data.set(b, offsets[i]));
  return { data, offsets, lengths };
}

/**
 * Writes chunks, each stamped with this transaction's id as its `version` (see selectChunksSql),
 * and gives their buckets a new change number (stampChunkChanges). Called inside the writing
 * transaction, so that both become visible together. The rows go in statements of at most
 * `maxBytesPerStatement` of chunk data.
 */
export async function upsertChunks(
  client: PoolClient,
  schema: string,
  rows: readonly ChunkWrite[],
  maxBytesPerStatement = CHUNK_BYTES_PER_STATEMENT,
): Promise<void> {
  await writeChunks(client, schema, rows, [], maxBytesPerStatement);
}

/**
 * Whole chunks (`rows`, as upsertChunks writes them) and appends to stored ones (`appended`, see
 * appendRows) in one go, their buckets stamped once.
 */
export async function writeChunks(
  client: PoolClient,
  schema: string,
  rows: readonly ChunkWrite[],
  appended: readonly ChunkAppend[],
  maxBytesPerStatement = CHUNK_BYTES_PER_STATEMENT,
): Promise<void> {
  for (const part of partsByBytes(rows, (r) => r.data.byteLength, maxBytesPerStatement)) {
    const packed = packedBytes(part.map((r) => r.data));
    await client.query(
      `INSERT INTO ${schema}.chunks (series_id, start_time, end_time, count, data, version)
       SELECT series_id, to_timestamp(start_ms / 1000.0), to_timestamp(end_ms / 1000.0), count,
              substring($5::bytea FROM off + 1 FOR len), pg_current_xact_id()::text::int8
         FROM unnest($1::int4[], $2::int8[], $3::int8[], $4::int4[], $6::int4[], $7::int4[])
              AS u(series_id, start_ms, end_ms, count, off, len)
       ON CONFLICT (series_id, start_time) DO UPDATE
         SET end_time = EXCLUDED.end_time, count = EXCLUDED.count, data = EXCLUDED.data, version = EXCLUDED.version`,
      [
        part.map((r) => r.seriesId),
        part.map((r) => r.startMs),
        part.map((r) => r.endMs),
        part.map((r) => r.count),
        packed.data,
        packed.offsets,
        packed.lengths,
      ],
    );
  }
  await appendRows(client, schema, appended, maxBytesPerStatement);
  await stampChunkChanges(client, schema, [...rows.map((r) => r.startMs), ...appended.map((r) => r.startMs)]);
}

/** Samples appended to a stored chunk: its first `keep` bytes, then `suffix` (AppendedChunk). */
export interface ChunkAppend {
  seriesId: number;
  startMs: number;
  endMs: number;
  count: number;
  keep: number;
  suffix: Uint8Array;
  /** The stored row this append is to: its sample count and byte length. */
  fromCount: number;
  fromBytes: number;
}

/**
 * Appends to stored chunks in PostgreSQL, sending only the new bytes: each row becomes its first
 * `keep` bytes followed by `suffix`, stamped like upsertChunks' rows. Each row must still be the
 * one the append was computed for (same count and length); if one is not (another writer changed
 * it, which the compaction lock rules out), the transaction fails rather than store a chunk that
 * does not decode.
 */
async function appendRows(
  client: PoolClient,
  schema: string,
  rows: readonly ChunkAppend[],
  maxBytesPerStatement: number,
): Promise<void> {
  for (const part of partsByBytes(rows, (r) => r.suffix.byteLength, maxBytesPerStatement)) {
    const packed = packedBytes(part.map((r) => r.suffix));
    const res = await client.query(
      `UPDATE ${schema}.chunks c
          SET end_time = to_timestamp(u.end_ms / 1000.0), count = u.count,
              data = substring(c.data FROM 1 FOR u.keep) || substring($5::bytea FROM u.off + 1 FOR u.len),
              version = pg_current_xact_id()::text::int8
         FROM unnest($1::int4[], $2::int8[], $3::int8[], $4::int4[], $6::int4[], $7::int4[], $8::int4[], $9::int4[], $10::int4[])
              AS u(series_id, start_ms, end_ms, count, keep, off, len, from_count, from_bytes)
        WHERE c.series_id = u.series_id AND c.start_time = to_timestamp(u.start_ms / 1000.0)
          AND c.count = u.from_count AND octet_length(c.data) = u.from_bytes`,
      [
        part.map((r) => r.seriesId),
        part.map((r) => r.startMs),
        part.map((r) => r.endMs),
        part.map((r) => r.count),
        packed.data,
        part.map((r) => r.keep),
        packed.offsets,
        packed.lengths,
        part.map((r) => r.fromCount),
        part.map((r) => r.fromBytes),
      ],
    );
    if (res.rowCount !== part.length)
      throw new StorageError(
        'CHUNK_CHANGED',
        `${part.length - (res.rowCount ?? 0)} of ${part.length} chunks changed since their state was kept`,
      );
  }
}

/**
 * A new change number for each of these buckets, from the store's one sequence. Buckets in
 * ascending order: two writers stamping overlapping buckets lock the rows in the same order.
 */
export async function stampChunkChanges(client: PoolClient, schema: string, startMs: readonly number[]): Promise<void> {
  const buckets = [...new Set(startMs)].sort((a, b) => a - b);
  if (buckets.length === 0) return;
  await client.query(
    `INSERT INTO ${schema}.chunk_changes (start_ms, change)
     SELECT b, nextval('${schema}.chunk_change_seq') FROM unnest($1::int8[]) AS b
     ON CONFLICT (start_ms) DO UPDATE SET change = EXCLUDED.change`,
    [buckets],
  );
}

/**
 * The change number of every bucket starting in [fromMs, toMs] that has one, as text (int8). A
 * bucket without one has had no write since 0005, or had its row deleted by retention.
 */
export async function chunkChanges(db: Db, schema: string, fromMs: number, toMs: number): Promise<Map<number, string>> {
  const { rows } = await db.query<unknown[]>({
    text: `SELECT start_ms, change FROM ${schema}.chunk_changes WHERE start_ms BETWEEN $1 AND $2`,
    values: [fromMs, toMs],
    rowMode: 'array',
  });
  return new Map(rows.map((r) => [Number(r[0]), r[1] as string]));
}

/**
 * Forgets the change numbers of buckets before `beforeMs` (their chunks went with retention): a
 * reader that validated one sees it change, and later writes there take new numbers.
 */
export async function forgetChunkChanges(db: Db, schema: string, beforeMs: number): Promise<void> {
  await db.query(`DELETE FROM ${schema}.chunk_changes WHERE start_ms < $1`, [beforeMs]);
}

/**
 * The hot read: chunks of the given series overlapping [startMs, endMs]. The lower bound on
 * start_time (a chunk starts at most one span before its first sample's bucket) lets the planner
 * prune partitions; the primary key (series_id, start_time) serves the rest. `data` travels as
 * base64: node-postgres reads bytea as hex text (two characters a byte plus a parse), and its
 * binary result mode cannot carry bytea. The chunk cache tells row versions apart by `version`
 * (the writing transaction's id) and `count`, not by `xmin`, which TimescaleDB's compressed
 * chunks cannot return; with the count, a rewrite by a writer that predates the column (it
 * leaves `version` as it was) is still noticed, since a rewrite only ever adds samples.
 */
export function selectChunksSql(schema: string, withData = true): string {
  return `SELECT series_id, (extract(epoch FROM start_time) * 1000)::int8 AS start_ms, count, version::text || ':' || count::text AS version${withData ? `, encode(data, 'base64') AS data` : ''}
       FROM ${schema}.chunks
     WHERE series_id = ANY($1::int4[])
       AND start_time > to_timestamp($2::int8 / 1000.0) AND start_time <= to_timestamp($3::int8 / 1000.0)
       AND end_time >= to_timestamp($4::int8 / 1000.0)
     ORDER BY series_id, start_time`;
}

/** Chunk rows as columns; `data[i]` is base64 (empty when only versions were asked for). */
export interface ChunkColumns {
  seriesIds: number[];
  startMs: number[];
  counts: number[];
  versions: string[];
  data: string[];
}

function toColumns(rows: unknown[][], withData: boolean): ChunkColumns {
  const out: ChunkColumns = { seriesIds: [], startMs: [], counts: [], versions: [], data: [] };
  for (const r of rows) {
    out.seriesIds.push(r[0] as number);
    out.startMs.push(Number(r[1]));
    out.counts.push(r[2] as number);
    out.versions.push(r[3] as string);
    out.data.push(withData ? (r[4] as string) : '');
  }
  return out;
}

/** The chunks of `ids` overlapping the window, ordered by series and start; without data, only their versions. */
export async function selectChunks(
  db: Db,
  schema: string,
  ids: readonly number[],
  startMs: number,
  endMs: number,
  spanMs: number,
  withData = true,
): Promise<ChunkColumns> {
  const { rows } = await db.query<unknown[]>({
    text: selectChunksSql(schema, withData),
    values: [ids, startMs - spanMs, endMs, startMs],
    rowMode: 'array',
  });
  return toColumns(rows, withData);
}

/** The chunks at exactly these (series, bucket start) keys, with data (the chunk cache's misses). */
export async function selectChunksAt(
  db: Db,
  schema: string,
  seriesIds: readonly number[],
  startMs: readonly number[],
): Promise<ChunkColumns> {
  const { rows } = await db.query<unknown[]>({
    text: `SELECT c.series_id, k.start_ms, c.count, c.version::text || ':' || c.count::text, encode(c.data, 'base64')
       FROM unnest($1::int4[], $2::int8[]) AS k(series_id, start_ms)
       JOIN ${schema}.chunks c ON c.series_id = k.series_id AND c.start_time = to_timestamp(k.start_ms / 1000.0)`,
    values: [seriesIds, startMs],
    rowMode: 'array',
  });
  return toColumns(rows, true);
}

/** Head rows overlapping the window; the head holds minutes of data, so this scan stays small. */
export async function selectHead(db: Db, schema: string, startMs: number, endMs: number): Promise<Buffer[]> {
  const { rows } = await db.query<{ payload: Buffer }>(
    `SELECT payload FROM ${schema}.head WHERE max_ts >= $1 AND min_ts <= $2`,
    [startMs, endMs],
  );
  return rows.map((r) => r.payload);
}

/** A window edge as an int8 parameter: whole milliseconds, infinities as the widest safe values. */
function windowEdge(ms: number, round: (x: number) => number): number {
  return Math.min(Number.MAX_SAFE_INTEGER, Math.max(Number.MIN_SAFE_INTEGER, round(ms)));
}

/**
 * The head rows that reach into [startMs, endMs] (batch id and time range, no payloads), and the
 * oldest newest-sample of the whole head: a cached row that ends before it is gone for good.
 */
export async function listHead(
  db: Db,
  schema: string,
  startMs: number,
  endMs: number,
): Promise<{ ids: string[]; minTs: Float64Array; maxTs: Float64Array; headFloorMs: number }> {
  const { rows } = await db.query<unknown[]>({
    // in time order, so a series' head samples come out ascending and need no sort; the last
    // row carries the floor alone
    text: `(SELECT batch_id, min_ts, max_ts FROM ${schema}.head WHERE max_ts >= $1 AND min_ts <= $2 ORDER BY min_ts)
           UNION ALL SELECT NULL, NULL, min(max_ts) FROM ${schema}.head`,
    values: [windowEdge(startMs, Math.floor), windowEdge(endMs, Math.ceil)],
    rowMode: 'array',
  });
  const n = rows.length - 1;
  const ids: string[] = new Array<string>(n);
  const minTs = new Float64Array(n);
  const maxTs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    ids[i] = r[0] as string;
    minTs[i] = Number(r[1]);
    maxTs[i] = Number(r[2]);
  }
  const floor = rows[n]![2];
  return { ids, minTs, maxTs, headFloorMs: floor === null ? Infinity : Number(floor) };
}

/** The payloads of these head rows (those still there). */
export async function headPayloadsById(
  db: Db,
  schema: string,
  batchIds: readonly string[],
): Promise<{ ids: string[]; payloads: Buffer[] }> {
  const { rows } = await db.query<unknown[]>({
    text: `SELECT batch_id, payload FROM ${schema}.head WHERE batch_id = ANY($1::text[])`,
    values: [batchIds],
    rowMode: 'array',
  });
  return { ids: rows.map((r) => r[0] as string), payloads: rows.map((r) => r[1] as Buffer) };
}

export async function deleteBatchLogBefore(db: Db, schema: string, cutoffMs: number): Promise<number> {
  const res = await db.query(`DELETE FROM ${schema}.batch_log WHERE max_ts < $1`, [cutoffMs]);
  return res.rowCount ?? 0;
}

/**
 * Series, samples and bytes on disk of the whole store. The chunk table's bytes are its
 * partitions' (native) or, on a hypertable, `hypertable_size` (chunks compressed or not, their
 * indexes and TOAST): pg_partition_tree does not see a hypertable's chunks.
 */
export async function storeStats(
  db: Db,
  schema: string,
  hypertable: boolean,
): Promise<{ series: number; samples: number; bytes: number }> {
  const chunkBytes = hypertable
    ? `coalesce(hypertable_size('${schema}.chunks'), 0)`
    : `(SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree('${schema}.chunks'))`;
  const { rows } = await db.query<{ series: string; samples: string; bytes: string }>(
    `SELECT (SELECT count(*) FROM ${schema}.series) AS series,
            (SELECT coalesce(sum(count), 0) FROM ${schema}.chunks) + (SELECT coalesce(sum(samples), 0) FROM ${schema}.head) AS samples,
            ${chunkBytes}
              + pg_total_relation_size('${schema}.head') + pg_total_relation_size('${schema}.series')
              + pg_total_relation_size('${schema}.series_ranges')
              + pg_total_relation_size('${schema}.batch_log') + pg_total_relation_size('${schema}.rollups') AS bytes`,
  );
  const r = rows[0]!;
  return { series: Number(r.series), samples: Number(r.samples), bytes: Number(r.bytes) };
}
