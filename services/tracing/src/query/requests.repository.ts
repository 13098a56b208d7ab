import type { Pool } from 'pg';
import type { RequestCompletedV1, RequestEventV1, RequestStatus } from '@arcwatch/contracts';

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
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  async byId(requestId: string): Promise<RequestCompletedV1 | undefined> {
    const s = this.schema;
    const { rows } = await this.pool.query<{ record: RequestCompletedV1 }>(
      `SELECT r.record FROM ${s}.finished_requests f
         JOIN ${s}.requests r ON r.request_id = f.request_id AND r.started_at = f.started_at
        WHERE f.request_id = $1`,
      [requestId],
    );
    return rows[0]?.record;
  }

  async openEvents(requestId: string): Promise<RequestEventV1[]> {
    const { rows } = await this.pool.query<{ events: Record<string, RequestEventV1> }>(`SELECT events FROM ${this.schema}.open_requests WHERE request_id = $1`, [requestId]);
    return rows.length === 0 ? [] : Object.values(rows[0].events);
  }

  async search(f: SearchFilter): Promise<RequestCompletedV1[]> {
    const { rows } = await this.pool.query<{ record: RequestCompletedV1 }>(
      `SELECT record FROM ${this.schema}.requests
        WHERE started_at >= $1 AND started_at < $2
          AND ($3::text IS NULL OR tenant = $3)
          AND ($4::text IS NULL OR model = $4)
          AND ($5::text IS NULL OR status = $5)
          AND ($6::float8 IS NULL OR e2e_ms >= $6)
          AND ($7::timestamptz IS NULL OR (started_at, request_id) < ($7::timestamptz, $8::text))
        ORDER BY started_at DESC, request_id DESC
        LIMIT $9`,
      [new Date(f.fromMs), new Date(f.toMs), f.tenant ?? null, f.model ?? null, f.status ?? null, f.minLatencyMs ?? null, f.after?.startedAt ?? null, f.after?.requestId ?? null, f.limit],
    );
    return rows.map((r) => r.record);
  }

  /**
   * Requests per latency bucket (upper bounds in ms, ascending) with up to three exemplar
   * request ids per bucket, the slowest first. Bucket i counts values in (bounds[i−1], bounds[i]],
   * Prometheus's `le` semantics; bucket bounds.length is +Inf.
   */
  async latencyBuckets(column: LatencyColumn, boundsMs: number[], f: Pick<SearchFilter, 'fromMs' | 'toMs' | 'tenant' | 'model'>): Promise<BucketRow[]> {
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
