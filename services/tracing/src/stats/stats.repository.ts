import type { Pool, PoolClient } from 'pg';
import type { CounterTotals, StatsKey, WindowStats } from './request-stats';

type Db = Pool | PoolClient;

interface MinuteRow {
  minute: Date;
  model: string;
  model_version: string;
  tenant: string;
  stats: WindowStats;
}

/** SQL of the per-minute statistics and the cumulative counters. */
export class StatsRepository {
  constructor(private readonly schema: string) {}

  /**
   * Creates the minutes that do not exist yet, empty, so that `lockMinutes` finds and locks every
   * one. Without it two transactions adding to the same new minute (two replicas, or two groups
   * of one consumer) would each see no row, each insert its own requests alone, and the later
   * insert would overwrite the earlier. A conflicting insert waits for the other transaction and
   * then leaves its row; the lock taken next reads the committed one.
   */
  async ensureMinutes(db: PoolClient, empty: readonly WindowStats[]): Promise<void> {
    if (empty.length === 0) return;
    await db.query(
      `INSERT INTO ${this.schema}.minute_stats (minute, model, model_version, tenant, stats)
       SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::jsonb[])
                  AS k(minute, model, model_version, tenant, stats)
        ORDER BY minute, model, model_version, tenant -- the order lockMinutes locks in
       ON CONFLICT (minute, model, model_version, tenant) DO NOTHING`,
      [
        empty.map((w) => new Date(w.startMs)),
        empty.map((w) => w.key.model),
        empty.map((w) => w.key.modelVersion),
        empty.map((w) => w.key.tenant),
        empty.map((w) => JSON.stringify(w)),
      ],
    );
  }

  /** The minutes' current statistics, and whether each was published, locked until the transaction ends. */
  async lockMinutes(
    db: PoolClient,
    keys: Array<{ minuteMs: number; key: StatsKey }>,
  ): Promise<Array<{ stats: WindowStats; published: boolean }>> {
    if (keys.length === 0) return [];
    const { rows } = await db.query<MinuteRow & { published: boolean }>(
      `SELECT m.minute, m.model, m.model_version, m.tenant, m.stats, m.published
         FROM ${this.schema}.minute_stats m
         JOIN unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[]) AS k(minute, model, model_version, tenant)
           USING (minute, model, model_version, tenant)
        ORDER BY m.minute, m.model, m.model_version, m.tenant
          FOR UPDATE OF m`,
      [
        keys.map((k) => new Date(k.minuteMs)),
        keys.map((k) => k.key.model),
        keys.map((k) => k.key.modelVersion),
        keys.map((k) => k.key.tenant),
      ],
    );
    return rows.map((r) => ({ stats: r.stats, published: r.published }));
  }

  async saveMinutes(db: PoolClient, stats: WindowStats[]): Promise<void> {
    if (stats.length === 0) return;
    await db.query(
      `INSERT INTO ${this.schema}.minute_stats (minute, model, model_version, tenant, stats)
       SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::jsonb[])
       ON CONFLICT (minute, model, model_version, tenant) DO UPDATE SET stats = EXCLUDED.stats`,
      [
        stats.map((w) => new Date(w.startMs)),
        stats.map((w) => w.key.model),
        stats.map((w) => w.key.modelVersion),
        stats.map((w) => w.key.tenant),
        stats.map((w) => JSON.stringify(w)),
      ],
    );
  }

  async addToCounters(
    db: PoolClient,
    increments: Array<{ id: string; labels: Record<string, string>; value: number }>,
  ): Promise<void> {
    if (increments.length === 0) return;
    // Sorted so that two replicas lock counter rows in the same order.
    const sorted = [...increments].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    await db.query(
      `INSERT INTO ${this.schema}.counter_totals AS c (series_id, labels, value)
       SELECT * FROM unnest($1::text[], $2::jsonb[], $3::float8[])
       ON CONFLICT (series_id) DO UPDATE SET value = c.value + EXCLUDED.value`,
      [sorted.map((i) => i.id), sorted.map((i) => JSON.stringify(i.labels)), sorted.map((i) => i.value)],
    );
  }

  /** Closed minutes not yet published, locked (other replicas skip them). */
  async claimClosedMinutes(db: PoolClient, closedBeforeMs: number, limit: number): Promise<WindowStats[]> {
    const { rows } = await db.query<MinuteRow>(
      `SELECT minute, model, model_version, tenant, stats FROM ${this.schema}.minute_stats
        WHERE NOT published AND minute < $1
        ORDER BY minute LIMIT $2
          FOR UPDATE SKIP LOCKED`,
      [new Date(closedBeforeMs), limit],
    );
    return rows.map((r) => r.stats);
  }

  async markPublished(db: PoolClient, stats: WindowStats[]): Promise<void> {
    if (stats.length === 0) return;
    await db.query(
      `UPDATE ${this.schema}.minute_stats m SET published = true
         FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[]) AS k(minute, model, model_version, tenant)
        WHERE (m.minute, m.model, m.model_version, m.tenant) = (k.minute, k.model, k.model_version, k.tenant)`,
      [
        stats.map((w) => new Date(w.startMs)),
        stats.map((w) => w.key.model),
        stats.map((w) => w.key.modelVersion),
        stats.map((w) => w.key.tenant),
      ],
    );
  }

  async counters(db: Db, ids: string[]): Promise<CounterTotals> {
    if (ids.length === 0) return {};
    const { rows } = await db.query<{ series_id: string; labels: Record<string, string>; value: number }>(
      `SELECT series_id, labels, value FROM ${this.schema}.counter_totals WHERE series_id = ANY($1::text[])`,
      [ids],
    );
    return Object.fromEntries(rows.map((r) => [r.series_id, { labels: r.labels, value: r.value }]));
  }

  /** The label sets already counted, so the cardinality limit survives a restart. */
  async knownKeys(db: Db): Promise<StatsKey[]> {
    const { rows } = await db.query<StatsKey>(
      `SELECT DISTINCT labels->>'model' AS "model", labels->>'model_version' AS "modelVersion", labels->>'tenant' AS "tenant"
         FROM ${this.schema}.counter_totals WHERE labels->>'__name__' = 'arcwatch_requests_total'
       UNION
       SELECT model, model_version, tenant FROM ${this.schema}.minute_stats WHERE NOT published`,
    );
    return rows;
  }

  /** Minute windows in [fromMs, toMs) for the stats API. */
  async minutes(
    db: Db,
    fromMs: number,
    toMs: number,
    filter: { model?: string; tenant?: string },
  ): Promise<WindowStats[]> {
    const { rows } = await db.query<MinuteRow>(
      `SELECT minute, model, model_version, tenant, stats FROM ${this.schema}.minute_stats
        WHERE minute >= $1 AND minute < $2 AND ($3::text IS NULL OR model = $3) AND ($4::text IS NULL OR tenant = $4)
        ORDER BY minute`,
      [new Date(fromMs), new Date(toMs), filter.model ?? null, filter.tenant ?? null],
    );
    return rows.map((r) => r.stats);
  }
}
