import { and, asc, gte, inArray, lt, lte, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { Pool, PoolClient } from 'pg';
import { sampleStoreTables } from './sample-store.schema';

type Db = Pool | PoolClient;

/**
 * What the sample store keeps beside samples for the Prometheus API: declared metadata,
 * exemplars, and each series' time range. Metadata and exemplars go through drizzle's builder
 * (sample-store.schema.ts); the range and pruning statements are set operations over arrays,
 * kept as SQL text.
 */
export interface MetadataRow {
  metric: string;
  type: string;
  help: string;
  unit: string;
  lastSeenMs: number;
}

export interface ExemplarRow {
  seriesId: number;
  ts: number;
  value: number;
  labels: Record<string, string>;
}

export class CatalogExtrasRepository {
  private readonly t: ReturnType<typeof sampleStoreTables>;

  constructor(
    private readonly db: NodePgDatabase,
    schema: string,
  ) {
    this.t = sampleStoreTables(schema);
  }

  /** Idempotent: a declaration seen again only moves its last_seen_ms forward. */
  async upsertMetadata(rows: readonly MetadataRow[]): Promise<void> {
    if (rows.length === 0) return;
    const m = this.t.metadata;
    await this.db
      .insert(m)
      .values([...rows])
      .onConflictDoUpdate({
        target: [m.metric, m.type, m.help, m.unit],
        set: { lastSeenMs: sql`greatest(${m.lastSeenMs}, excluded.last_seen_ms)` },
      });
  }

  async metadata(metric?: string): Promise<MetadataRow[]> {
    const m = this.t.metadata;
    const q = this.db.select().from(m);
    return (metric === undefined ? q : q.where(inArray(m.metric, [metric]))).orderBy(
      asc(m.metric),
      asc(m.type),
      asc(m.help),
      asc(m.unit),
    );
  }

  /** Idempotent by (series, time): a redelivered batch writes nothing new. */
  async insertExemplars(rows: readonly ExemplarRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insert(this.t.exemplars)
      .values([...rows])
      .onConflictDoNothing();
  }

  /** Exemplars of these series in [startMs, endMs], by series then time. */
  async exemplars(seriesIds: readonly number[], startMs: number, endMs: number): Promise<ExemplarRow[]> {
    if (seriesIds.length === 0) return [];
    const e = this.t.exemplars;
    return this.db
      .select()
      .from(e)
      .where(and(inArray(e.seriesId, [...seriesIds]), gte(e.ts, startMs), lte(e.ts, endMs)))
      .orderBy(asc(e.seriesId), asc(e.ts));
  }

  async deleteExemplarsBefore(cutoffMs: number): Promise<number> {
    const res = await this.db.delete(this.t.exemplars).where(lt(this.t.exemplars.ts, cutoffMs));
    return res.rowCount ?? 0;
  }

  async deleteMetadataBefore(cutoffMs: number): Promise<number> {
    const res = await this.db.delete(this.t.metadata).where(lt(this.t.metadata.lastSeenMs, cutoffMs));
    return res.rowCount ?? 0;
  }
}

/** Widens the stored time range of the series a compaction (or import) wrote. */
export async function widenSeriesRanges(
  db: Db,
  schema: string,
  ranges: ReadonlyMap<number, { min: number; max: number }>,
): Promise<void> {
  if (ranges.size === 0) return;
  const ids = [...ranges.keys()];
  await db.query(
    `INSERT INTO ${schema}.series_ranges AS r (series_id, first_ms, last_ms)
     SELECT * FROM unnest($1::int4[], $2::int8[], $3::int8[])
     ON CONFLICT (series_id) DO UPDATE
        SET first_ms = least(r.first_ms, EXCLUDED.first_ms), last_ms = greatest(r.last_ms, EXCLUDED.last_ms)
      WHERE r.first_ms > EXCLUDED.first_ms OR r.last_ms < EXCLUDED.last_ms`,
    [ids, ids.map((id) => ranges.get(id)!.min), ids.map((id) => ranges.get(id)!.max)],
  );
}

/**
 * Ids among `ids` whose stored range overlaps [startMs, endMs]. A long list is not sent: the
 * window's series are read from the whole range table (48-byte rows) and the caller intersects.
 */
export async function seriesInWindow(
  db: Db,
  schema: string,
  ids: readonly number[],
  startMs: number,
  endMs: number,
): Promise<number[]> {
  if (ids.length > 10_000) {
    const { rows } = await db.query<{ id: number }>(
      `SELECT series_id AS id FROM ${schema}.series_ranges WHERE last_ms >= $1 AND first_ms <= $2`,
      [startMs, endMs],
    );
    return rows.map((r) => r.id);
  }
  const { rows } = await db.query<{ id: number }>(
    `SELECT series_id AS id FROM ${schema}.series_ranges
      WHERE series_id = ANY($1::int4[]) AND first_ms <= $3 AND last_ms >= $2`,
    [ids, startMs, endMs],
  );
  return rows.map((r) => r.id);
}

/**
 * Removes catalog rows with no sample left: last sample before the cutoff (or never compacted and
 * created before it), no chunk row remaining, and not in the head (`keep`). Their ranges and
 * exemplars go with them. Returns the removed ids.
 */
export async function pruneSeries(
  client: PoolClient,
  schema: string,
  cutoffMs: number,
  keep: readonly number[],
): Promise<number[]> {
  const { rows } = await client.query<{ id: number }>(
    `DELETE FROM ${schema}.series s
      WHERE coalesce((SELECT r.last_ms < $1 FROM ${schema}.series_ranges r WHERE r.series_id = s.id),
                     s.created_at < to_timestamp($1 / 1000.0))
        AND NOT (s.id = ANY($2::int4[]))
        AND NOT EXISTS (SELECT 1 FROM ${schema}.chunks c WHERE c.series_id = s.id)
      RETURNING s.id`,
    [cutoffMs, keep],
  );
  const ids = rows.map((r) => r.id);
  if (ids.length > 0) {
    await client.query(`DELETE FROM ${schema}.series_ranges WHERE series_id = ANY($1::int4[])`, [ids]);
    await client.query(`DELETE FROM ${schema}.exemplars WHERE series_id = ANY($1::int4[])`, [ids]);
  }
  return ids;
}

/** Every series id of the head rows: they have samples not yet in chunks. */
export async function headPayloads(db: Db, schema: string): Promise<Buffer[]> {
  const { rows } = await db.query<{ payload: Buffer }>(`SELECT payload FROM ${schema}.head`);
  return rows.map((r) => r.payload);
}
