import type { PoolClient } from 'pg';
import type { AllocationLine, AllocationMethod, CostRequest, IdlePolicy, WindowAllocation } from '@arcwatch/cost';

export type Db = Pick<PoolClient, 'query'>;

/** Dimensions a cost report can group by, and the column each reads. */
export const REPORT_DIMENSIONS = {
  tenant: 'tenant',
  team: 'team',
  project: 'project',
  model: 'model',
  model_version: 'model_version',
  api_key: 'api_key_hash',
  instance: 'instance',
  pool: 'pool',
  kind: 'kind',
  day: `to_char(date_trunc('day', window_start AT TIME ZONE 'UTC'), 'YYYY-MM-DD')`,
} as const;
export type ReportDimension = keyof typeof REPORT_DIMENSIONS;

/**
 * Reads over the allocation: every query has a time window. Amounts are summed by PostgreSQL as
 * bigint (numeric on overflow) and returned as text, never as a float.
 */
export class ReportsRepository {
  constructor(private readonly s: string) {}

  /** Stored windows of [fromMs, toMs) with their lines, as the allocation produced them. */
  async windows(db: Db, fromMs: number, toMs: number): Promise<WindowAllocation[]> {
    const ws = await db.query<{
      ws: string;
      we: string;
      instance: string;
      pool: string;
      resource_id: string | null;
      cost_micro: string;
      currency: string;
      method: string;
      idle_policy: string;
    }>(
      `SELECT (extract(epoch FROM window_start) * 1000)::bigint AS ws, (extract(epoch FROM window_end) * 1000)::bigint AS we, instance, pool, resource_id,
              cost_micro, currency, method, idle_policy
       FROM ${this.s}.allocation_windows WHERE window_start >= $1 AND window_start < $2 ORDER BY window_start, instance`,
      [new Date(fromMs), new Date(toMs)],
    );
    const ls = await db.query<Record<string, string | null | number>>(
      `SELECT (extract(epoch FROM window_start) * 1000)::bigint AS ws, instance, request_id, tenant, idle_owner, pool, amount_micro, idle_share_micro, gpu_ms, currency
       FROM ${this.s}.allocation_lines WHERE window_start >= $1 AND window_start < $2 ORDER BY window_start, instance, (request_id IS NULL), request_id`,
      [new Date(fromMs), new Date(toMs)],
    );
    const byKey = new Map<string, WindowAllocation>();
    const out = ws.rows.map((r) => {
      const w: WindowAllocation = {
        windowStartMs: Number(r.ws),
        windowEndMs: Number(r.we),
        instance: r.instance,
        pool: r.pool,
        resourceId: r.resource_id,
        method: r.method as AllocationMethod,
        idlePolicy: r.idle_policy as IdlePolicy,
        currency: r.currency,
        costMicro: BigInt(r.cost_micro),
        lines: [],
      };
      byKey.set(`${w.windowStartMs}|${w.instance}`, w);
      return w;
    });
    for (const r of ls.rows) {
      const w = byKey.get(`${r.ws}|${r.instance}`);
      if (!w) continue;
      const line: AllocationLine = {
        windowStartMs: w.windowStartMs,
        windowEndMs: w.windowEndMs,
        instance: w.instance,
        pool: String(r.pool),
        tenant: String(r.tenant),
        requestId: r.request_id === null ? null : String(r.request_id),
        idleOwner: r.idle_owner === null ? null : String(r.idle_owner),
        amountMicro: BigInt(String(r.amount_micro)),
        idleShareMicro: BigInt(String(r.idle_share_micro)),
        gpuMs: Number(r.gpu_ms),
        currency: String(r.currency),
      };
      w.lines.push(line);
    }
    return out;
  }

  async requestsByIds(db: Db, ids: readonly string[]): Promise<Map<string, CostRequest>> {
    const { rows } = await db.query<Record<string, string | number | null>>(
      `SELECT request_id, instance, start_ms, end_ms, first_token_ms, tenant, team, project, model, model_version, api_key_hash, prompt_tokens, completion_tokens
       FROM ${this.s}.request_intervals WHERE request_id = ANY($1)`,
      [ids],
    );
    return new Map(
      rows.map((r) => [
        String(r.request_id),
        {
          requestId: String(r.request_id),
          instance: String(r.instance),
          startMs: Number(r.start_ms),
          endMs: Number(r.end_ms),
          firstTokenMs: r.first_token_ms === null ? null : Number(r.first_token_ms),
          tenant: r.tenant === null ? null : String(r.tenant),
          team: String(r.team),
          project: String(r.project),
          model: String(r.model),
          modelVersion: String(r.model_version),
          apiKeyHash: r.api_key_hash === null ? null : String(r.api_key_hash),
          promptTokens: Number(r.prompt_tokens),
          completionTokens: Number(r.completion_tokens),
        },
      ]),
    );
  }

  async costBy(
    db: Db,
    fromMs: number,
    toMs: number,
    dims: readonly ReportDimension[],
    tenant?: string,
  ): Promise<Array<Record<string, string | number | null>>> {
    const cols = dims.map((d) => `${REPORT_DIMENSIONS[d]} AS ${d}`);
    const group = dims.map((_, i) => String(i + 1));
    const { rows } = await db.query<Record<string, string | number | null>>(
      `SELECT ${[...cols, 'currency'].join(', ')}, sum(amount_micro)::text AS amount_micro, count(DISTINCT request_id)::int AS requests,
              round((sum(gpu_ms) / 1000)::numeric, 3)::float8 AS gpu_seconds
       FROM ${this.s}.allocation_lines
       WHERE window_start >= $1 AND window_start < $2 ${tenant === undefined ? '' : 'AND tenant = $3'}
       GROUP BY ${[...group, String(dims.length + 1)].join(', ')}
       ORDER BY ${[...group, String(dims.length + 1)].join(', ')}`,
      tenant === undefined ? [new Date(fromMs), new Date(toMs)] : [new Date(fromMs), new Date(toMs), tenant],
    );
    return rows;
  }

  /** Cost and tokens by model version: tokens of the requests that ended in the span. */
  async tokenCost(
    db: Db,
    fromMs: number,
    toMs: number,
  ): Promise<
    Array<{
      model: string;
      model_version: string;
      currency: string;
      amount_micro: string;
      input_tokens: string;
      output_tokens: string;
    }>
  > {
    const { rows } = await db.query<{
      model: string;
      model_version: string;
      currency: string;
      amount_micro: string;
      input_tokens: string;
      output_tokens: string;
    }>(
      `WITH cost AS (
         SELECT model, model_version, currency, sum(amount_micro) AS amount_micro
         FROM ${this.s}.allocation_lines WHERE window_start >= $1 AND window_start < $2 AND request_id IS NOT NULL
         GROUP BY 1, 2, 3),
       tok AS (
         SELECT model, model_version, sum(prompt_tokens) AS input_tokens, sum(completion_tokens) AS output_tokens
         FROM ${this.s}.request_intervals WHERE end_ms > $3 AND end_ms <= $4 GROUP BY 1, 2)
       SELECT c.model, c.model_version, c.currency, c.amount_micro::text, coalesce(t.input_tokens, 0)::text AS input_tokens,
              coalesce(t.output_tokens, 0)::text AS output_tokens
       FROM cost c LEFT JOIN tok t USING (model, model_version) ORDER BY 1, 2, 3`,
      [new Date(fromMs), new Date(toMs), fromMs, toMs],
    );
    return rows;
  }

  async requestLines(
    db: Db,
    requestId: string,
  ): Promise<
    Array<{
      ws: string;
      we: string;
      instance: string;
      amount_micro: string;
      idle_share_micro: string;
      gpu_ms: number;
      currency: string;
      method: string;
      idle_policy: string;
      tenant: string | null;
    }>
  > {
    const { rows } = await db.query<{
      ws: string;
      we: string;
      instance: string;
      amount_micro: string;
      idle_share_micro: string;
      gpu_ms: number;
      currency: string;
      method: string;
      idle_policy: string;
      tenant: string | null;
    }>(
      `SELECT (extract(epoch FROM l.window_start) * 1000)::bigint AS ws, (extract(epoch FROM w.window_end) * 1000)::bigint AS we, l.instance,
              l.amount_micro::text, l.idle_share_micro::text, l.gpu_ms, l.currency, w.method, w.idle_policy, l.tenant
       FROM ${this.s}.allocation_lines l JOIN ${this.s}.allocation_windows w USING (window_start, instance)
       WHERE l.request_id = $1 ORDER BY l.window_start`,
      [requestId],
    );
    return rows;
  }

  /** Other requests in one instance window. */
  async windowParties(
    db: Db,
    windowStartMs: number,
    instance: string,
  ): Promise<Array<{ request_id: string | null; tenant: string; amount_micro: string }>> {
    const { rows } = await db.query<{ request_id: string | null; tenant: string; amount_micro: string }>(
      `SELECT request_id, tenant, amount_micro::text FROM ${this.s}.allocation_lines WHERE window_start = $1 AND instance = $2 ORDER BY (request_id IS NULL), request_id`,
      [new Date(windowStartMs), instance],
    );
    return rows;
  }

  async idleByPool(
    db: Db,
    fromMs: number,
    toMs: number,
  ): Promise<
    Array<{ pool: string; currency: string; total_micro: string; idle_micro: string; idle_shared_micro: string }>
  > {
    const { rows } = await db.query<{
      pool: string;
      currency: string;
      total_micro: string;
      idle_micro: string;
      idle_shared_micro: string;
    }>(
      `SELECT pool, currency, sum(amount_micro)::text AS total_micro,
              coalesce(sum(amount_micro) FILTER (WHERE kind = 'idle'), 0)::text AS idle_micro,
              sum(idle_share_micro)::text AS idle_shared_micro
       FROM ${this.s}.allocation_lines WHERE window_start >= $1 AND window_start < $2 GROUP BY 1, 2 ORDER BY 1, 2`,
      [new Date(fromMs), new Date(toMs)],
    );
    return rows;
  }
}
