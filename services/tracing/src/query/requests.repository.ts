import { and, desc, eq, gte, lt, or, type SQL } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { Pool } from 'pg';
import type { RequestCompletedV1, RequestEventV1, RequestStatus } from '@arcwatch/contracts';
import { tracingTables, type TracingTables } from '../database/tracing.schema';

export interface SearchFilter {
  fromMs: number;
  toMs: number;
  tenant?: string;
  model?: string;
  status?: RequestStatus;
  minLatencyMs?: number;
  limit: number;
  /** Keyset position: rows strictly before (startedAt, requestId) in descending order. */
  after?: { startedAt: string; requestId: string };
}

export type LatencyColumn = 'e2e_ms' | 'ttft_ms' | 'tpot_ms' | 'queue_ms';

export interface BucketRow {
  bucket: number;
  count: number;
  exemplars: string[];
  maxMs: number;
}

/** SQL of the query API. Every read of `requests` is bounded by started_at, so partitions prune. */
export class RequestsRepository {
  private readonly db: NodePgDatabase;
  private readonly t: TracingTables;

  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {
    this.db = drizzle(pool);
    this.t = tracingTables(schema);
  }

  async byId(requestId: string): Promise<RequestCompletedV1 | undefined> {
    const { finishedRequests: f, requests: r } = this.t;
    // Joined on started_at too, so that only the partition of that day is read.
    const rows = await this.db
      .select({ record: r.record })
      .from(f)
      .innerJoin(r, and(eq(r.requestId, f.requestId), eq(r.startedAt, f.startedAt)))
      .where(eq(f.requestId, requestId));
    return rows[0]?.record;
  }

  async openEvents(requestId: string): Promise<RequestEventV1[]> {
    const o = this.t.openRequests;
    const rows = await this.db.select({ events: o.events }).from(o).where(eq(o.requestId, requestId));
    return rows.length === 0 ? [] : Object.values(rows[0].events);
  }

  async search(f: SearchFilter): Promise<RequestCompletedV1[]> {
    const r = this.t.requests;
    const where: Array<SQL | undefined> = [gte(r.startedAt, new Date(f.fromMs)), lt(r.startedAt, new Date(f.toMs))];
    if (f.tenant !== undefined) where.push(eq(r.tenant, f.tenant));
    if (f.model !== undefined) where.push(eq(r.model, f.model));
    if (f.status !== undefined) where.push(eq(r.status, f.status));
    if (f.minLatencyMs !== undefined) where.push(gte(r.e2eMs, f.minLatencyMs));
    if (f.after) {
      const at = new Date(f.after.startedAt);
      where.push(or(lt(r.startedAt, at), and(eq(r.startedAt, at), lt(r.requestId, f.after.requestId))));
    }
    const rows = await this.db
      .select({ record: r.record })
      .from(r)
      .where(and(...where))
      .orderBy(desc(r.startedAt), desc(r.requestId))
      .limit(f.limit);
    return rows.map((x) => x.record);
  }

  /**
   * Requests per latency bucket (upper bounds in ms, ascending) with up to three exemplar
   * request ids per bucket, the slowest first. Bucket i counts values in (bounds[i−1], bounds[i]],
   * Prometheus's `le` semantics; bucket bounds.length is +Inf.
   */
  // Raw SQL: the bucket index is computed against an array parameter (unnest), which drizzle's builder does not express.
  async latencyBuckets(
    column: LatencyColumn,
    boundsMs: number[],
    f: Pick<SearchFilter, 'fromMs' | 'toMs' | 'tenant' | 'model'>,
  ): Promise<BucketRow[]> {
    const { rows } = await this.pool.query<{ bucket: number; count: string; exemplars: string[]; max_ms: number }>(
      `SELECT (SELECT count(*) FROM unnest($1::float8[]) AS b WHERE b < ${column})::int AS bucket, count(*) AS count,
              (array_agg(request_id ORDER BY ${column} DESC, request_id))[1:3] AS exemplars, max(${column}) AS max_ms
         FROM ${this.schema}.requests
        WHERE started_at >= $2 AND started_at < $3 AND ${column} IS NOT NULL
          AND ($4::text IS NULL OR tenant = $4) AND ($5::text IS NULL OR model = $5)
        GROUP BY 1 ORDER BY 1`,
      [boundsMs, new Date(f.fromMs), new Date(f.toMs), f.tenant ?? null, f.model ?? null],
    );
    return rows.map((r) => ({ bucket: r.bucket, count: Number(r.count), exemplars: r.exemplars, maxMs: r.max_ms }));
  }
}
