import type { PoolClient } from 'pg';
import type { CostRecord, CostRequest, PlacementStatement, WindowAllocation } from '@arcwatch/cost';

export type Db = Pick<PoolClient, 'query'>;

export interface DiscoveredInstance {
  instance: string;
  node: string | null;
  gpus: number;
  fromMs: number;
}

/**
 * The allocation tables. Bulk writes go through unnest (one statement whatever the count; drizzle
 * would spell out one tuple per row); every insert is ON CONFLICT DO NOTHING, so a redelivered
 * record or a window allocated twice changes nothing.
 */
export class AllocationRepository {
  constructor(private readonly s: string) {}

  /** Stores request intervals; returns the ids that were new. */
  async saveRequests(db: Db, reqs: readonly (CostRequest & { node: string | null })[]): Promise<Set<string>> {
    if (reqs.length === 0) return new Set();
    const col = <T>(f: (r: CostRequest & { node: string | null }) => T) => reqs.map(f);
    const { rows } = await db.query<{ request_id: string }>(
      `INSERT INTO ${this.s}.request_intervals (request_id, instance, node, start_ms, end_ms, first_token_ms, tenant, team, project, model,
         model_version, api_key_hash, prompt_tokens, completion_tokens)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::text[],
         $10::text[], $11::text[], $12::text[], $13::int[], $14::int[])
       ON CONFLICT (request_id) DO NOTHING
       RETURNING request_id`,
      [
        col((r) => r.requestId),
        col((r) => r.instance),
        col((r) => r.node),
        col((r) => r.startMs),
        col((r) => r.endMs),
        col((r) => r.firstTokenMs),
        col((r) => r.tenant),
        col((r) => r.team),
        col((r) => r.project),
        col((r) => r.model),
        col((r) => r.modelVersion),
        col((r) => r.apiKeyHash),
        col((r) => r.promptTokens),
        col((r) => r.completionTokens),
      ],
    );
    return new Set(rows.map((r) => r.request_id));
  }

  /** Instances seen in request records; the earliest window start seen wins. */
  async discoverInstances(db: Db, found: readonly (DiscoveredInstance & { gpuUuids: string[] })[]): Promise<void> {
    if (found.length === 0) return;
    await db.query(
      `INSERT INTO ${this.s}.instances (instance, node, gpus, gpu_uuids, from_ms)
       SELECT i, n, g, u::jsonb, f FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::bigint[]) AS t(i, n, g, u, f)
       ON CONFLICT (instance) DO UPDATE SET from_ms = LEAST(${this.s}.instances.from_ms, EXCLUDED.from_ms)`,
      [
        found.map((f) => f.instance),
        found.map((f) => f.node),
        found.map((f) => f.gpus),
        found.map((f) => JSON.stringify(f.gpuUuids)),
        found.map((f) => f.fromMs),
      ],
    );
  }

  async instances(db: Db): Promise<Array<DiscoveredInstance & { gpuUuids: string[] }>> {
    const { rows } = await db.query<{
      instance: string;
      node: string | null;
      gpus: number;
      gpu_uuids: string[];
      from_ms: string;
    }>(`SELECT instance, node, gpus, gpu_uuids, from_ms FROM ${this.s}.instances ORDER BY instance`);
    return rows.map((r) => ({
      instance: r.instance,
      node: r.node,
      gpus: r.gpus,
      gpuUuids: r.gpu_uuids,
      fromMs: Number(r.from_ms),
    }));
  }

  /**
   * Stores what records say about placement as stretches [fromMs, toMs) of windows. A stretch that
   * repeats the row in force at its start (a record naming no GPUs on the same node repeats it
   * too) extends that row's end instead of adding one. Rows come per instance in window order,
   * repeats within the batch already joined.
   */
  async addRecordPlacements(
    db: Db,
    rows: ReadonlyArray<{
      instance: string;
      fromMs: number;
      toMs: number;
      node: string | null;
      gpuUuids: readonly string[];
    }>,
  ): Promise<void> {
    if (rows.length === 0) return;
    const params = [
      rows.map((r) => r.instance),
      rows.map((r) => r.fromMs),
      rows.map((r) => r.toMs),
      rows.map((r) => r.node),
      rows.map((r) => JSON.stringify(r.gpuUuids)),
    ];
    const t = `unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[]) AS t(i, f, e, n, u)`;
    const repeats = (rp: string) =>
      `${rp}.instance = t.i
       AND ${rp}.from_ms = (SELECT max(p.from_ms) FROM ${this.s}.record_placements p WHERE p.instance = t.i AND p.from_ms <= t.f)
       AND ${rp}.node IS NOT DISTINCT FROM t.n AND (${rp}.gpu_uuids = t.u::jsonb OR t.u::jsonb = '[]'::jsonb)`;
    await db.query(
      `UPDATE ${this.s}.record_placements rp SET to_ms = GREATEST(rp.to_ms, t.e) FROM ${t}
       WHERE ${repeats('rp')} AND rp.to_ms IS NOT NULL`,
      params,
    );
    await db.query(
      `INSERT INTO ${this.s}.record_placements (instance, from_ms, to_ms, node, gpu_uuids)
       SELECT t.i, t.f, t.e, t.n, t.u::jsonb FROM ${t}
       WHERE NOT EXISTS (SELECT 1 FROM ${this.s}.record_placements rp WHERE ${repeats('rp')})
       ON CONFLICT (instance, from_ms) DO NOTHING`,
      params,
    );
  }

  /** Placement statements of request records, per instance in time order. */
  async recordPlacements(db: Db): Promise<Map<string, PlacementStatement[]>> {
    const { rows } = await db.query<{
      instance: string;
      from_ms: string;
      to_ms: string | null;
      node: string | null;
      gpu_uuids: string[];
    }>(`SELECT instance, from_ms, to_ms, node, gpu_uuids FROM ${this.s}.record_placements ORDER BY instance, from_ms`);
    const out = new Map<string, PlacementStatement[]>();
    for (const r of rows) {
      const list = out.get(r.instance) ?? [];
      const stated: PlacementStatement = {
        fromMs: Number(r.from_ms),
        node: r.node,
        gpuUuids: r.gpu_uuids,
        gpuModel: null,
      };
      if (r.to_ms !== null) stated.toMs = Number(r.to_ms);
      list.push(stated);
      out.set(r.instance, list);
    }
    return out;
  }

  /** Placement changes seen in metrics, per instance in time order. */
  async metricPlacements(db: Db): Promise<Map<string, PlacementStatement[]>> {
    const { rows } = await db.query<{
      instance: string;
      from_ms: string;
      node: string;
      gpu_uuids: string[];
      gpu_model: string | null;
    }>(
      `SELECT instance, from_ms, node, gpu_uuids, gpu_model FROM ${this.s}.metric_placements ORDER BY instance, from_ms`,
    );
    const out = new Map<string, PlacementStatement[]>();
    for (const r of rows) {
      const list = out.get(r.instance) ?? [];
      list.push({ fromMs: Number(r.from_ms), node: r.node, gpuUuids: r.gpu_uuids, gpuModel: r.gpu_model });
      out.set(r.instance, list);
    }
    return out;
  }

  async addMetricPlacements(
    db: Db,
    rows: ReadonlyArray<PlacementStatement & { instance: string; node: string }>,
  ): Promise<number> {
    if (rows.length === 0) return 0;
    const res = await db.query(
      `INSERT INTO ${this.s}.metric_placements (instance, from_ms, node, gpu_uuids, gpu_model)
       SELECT i, f, n, u::jsonb, m FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[]) AS t(i, f, n, u, m)
       ON CONFLICT (instance, from_ms) DO NOTHING`,
      [
        rows.map((r) => r.instance),
        rows.map((r) => r.fromMs),
        rows.map((r) => r.node),
        rows.map((r) => JSON.stringify(r.gpuUuids)),
        rows.map((r) => r.gpuModel),
      ],
    );
    return res.rowCount ?? 0;
  }

  async progress(db: Db, name: 'watermark' | 'closed_until', lock = false): Promise<number | null> {
    const { rows } = await db.query<{ value_ms: string }>(
      `SELECT value_ms FROM ${this.s}.progress WHERE name = $1${lock ? ' FOR UPDATE' : ''}`,
      [name],
    );
    return rows[0] ? Number(rows[0].value_ms) : null;
  }

  async raiseProgress(db: Db, name: 'watermark' | 'closed_until', valueMs: number): Promise<void> {
    await db.query(
      `INSERT INTO ${this.s}.progress (name, value_ms) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET value_ms = GREATEST(${this.s}.progress.value_ms, EXCLUDED.value_ms)`,
      [name, valueMs],
    );
  }

  /** Serialises window closing across replicas: the first to lock the row closes, the others wait. */
  async lockClosing(db: Db): Promise<void> {
    await db.query(`INSERT INTO ${this.s}.progress (name, value_ms) VALUES ('closing_lock', 0) ON CONFLICT DO NOTHING`);
    await db.query(`SELECT value_ms FROM ${this.s}.progress WHERE name = 'closing_lock' FOR UPDATE`);
  }

  async earliestStart(db: Db): Promise<number | null> {
    const { rows } = await db.query<{ m: string | null }>(`SELECT min(start_ms) AS m FROM ${this.s}.request_intervals`);
    return rows[0]?.m == null ? null : Number(rows[0].m);
  }

  /** Requests that ran during [fromMs, toMs). */
  async requestsDuring(db: Db, fromMs: number, toMs: number): Promise<CostRequest[]> {
    const { rows } = await db.query<Record<string, string | number | null>>(
      `SELECT request_id, instance, start_ms, end_ms, first_token_ms, tenant, team, project, model, model_version, api_key_hash,
              prompt_tokens, completion_tokens
       FROM ${this.s}.request_intervals WHERE start_ms < $2 AND end_ms > $1`,
      [fromMs, toMs],
    );
    return rows.map((r) => ({
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
    }));
  }

  async saveWindows(
    db: Db,
    windows: readonly WindowAllocation[],
    requests: ReadonlyMap<string, CostRequest>,
  ): Promise<void> {
    if (windows.length === 0) return;
    await db.query(
      `INSERT INTO ${this.s}.allocation_windows (window_start, window_end, instance, pool, resource_id, cost_micro, currency, method, idle_policy)
       SELECT to_timestamp(ws / 1000.0), to_timestamp(we / 1000.0), i, p, r, c, cur, m, ip
       FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[])
         AS t(ws, we, i, p, r, c, cur, m, ip)
       ON CONFLICT DO NOTHING`,
      [
        windows.map((w) => w.windowStartMs),
        windows.map((w) => w.windowEndMs),
        windows.map((w) => w.instance),
        windows.map((w) => w.pool),
        windows.map((w) => w.resourceId),
        windows.map((w) => w.costMicro.toString()),
        windows.map((w) => w.currency),
        windows.map((w) => w.method),
        windows.map((w) => w.idlePolicy),
      ],
    );
    const lines = windows.flatMap((w) => w.lines);
    const CHUNK = 5_000;
    for (let i = 0; i < lines.length; i += CHUNK) {
      const part = lines.slice(i, i + CHUNK);
      const req = (l: (typeof part)[number]) => (l.requestId === null ? undefined : requests.get(l.requestId));
      await db.query(
        `INSERT INTO ${this.s}.allocation_lines (window_start, instance, party, request_id, tenant, team, project, model, model_version,
           api_key_hash, kind, idle_owner, pool, amount_micro, idle_share_micro, gpu_ms, currency)
         SELECT to_timestamp(ws / 1000.0), i, pa, r, te, tm, pr, mo, mv, k, ki, io, po, a, isx, g, c
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
           $10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[], $15::bigint[], $16::float8[], $17::text[])
           AS t(ws, i, pa, r, te, tm, pr, mo, mv, k, ki, io, po, a, isx, g, c)
         ON CONFLICT DO NOTHING`,
        [
          part.map((l) => l.windowStartMs),
          part.map((l) => l.instance),
          part.map((l) => l.requestId ?? ''),
          part.map((l) => l.requestId),
          part.map((l) => l.tenant),
          part.map((l) => req(l)?.team ?? ''),
          part.map((l) => req(l)?.project ?? ''),
          part.map((l) => req(l)?.model ?? ''),
          part.map((l) => req(l)?.modelVersion ?? ''),
          part.map((l) => req(l)?.apiKeyHash ?? null),
          part.map((l) => (l.requestId === null ? 'idle' : l.tenant === 'unattributed' ? 'unattributed' : 'requests')),
          part.map((l) => l.idleOwner),
          part.map((l) => l.pool),
          part.map((l) => l.amountMicro.toString()),
          part.map((l) => l.idleShareMicro.toString()),
          part.map((l) => l.gpuMs),
          part.map((l) => l.currency),
        ],
      );
    }
  }

  async saveCostRecords(db: Db, records: readonly CostRecord[]): Promise<void> {
    if (records.length === 0) return;
    await db.query(
      `INSERT INTO ${this.s}.cost_records (event_id, period_start, tenant, amount_micro, data)
       SELECT e, p::timestamptz, t, a, d::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[]) AS x(e, p, t, a, d)
       ON CONFLICT DO NOTHING`,
      [
        records.map((r) => r.id),
        records.map((r) => r.key.periodStart),
        records.map((r) => r.key.tenant),
        records.map((r) => r.amountMicro.toString()),
        records.map((r) => JSON.stringify(r.data)),
      ],
    );
  }
}
