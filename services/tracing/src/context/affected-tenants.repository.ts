import type { Pool } from 'pg';

export interface AffectedTenantRow {
  tenant: string;
  requests: number;
  errors: number;
}

/** Which tenants' requests ran on an instance, node or set of GPUs lately. */
export class AffectedTenantsRepository {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  // Raw SQL: the GPU match is the array overlap `&&`, which drizzle's builder does not express;
  // the started_at bound keeps the read to the latest partitions.
  async since(
    fromMs: number,
    where: { instance?: string; node?: string; gpus: string[] },
  ): Promise<AffectedTenantRow[]> {
    const { rows } = await this.pool.query<{ tenant: string; requests: string; errors: string }>(
      `SELECT tenant, count(*) AS requests, count(*) FILTER (WHERE status <> 'completed') AS errors
         FROM ${this.schema}.requests
        WHERE started_at >= $1
          AND (($2::text IS NOT NULL AND instance = $2)
            OR ($3::text IS NOT NULL AND node = $3)
            OR (cardinality($4::text[]) > 0 AND gpu_uuids && $4::text[]))
        GROUP BY tenant
        ORDER BY count(*) DESC, tenant
        LIMIT 20`,
      [new Date(fromMs), where.instance ?? null, where.node ?? null, where.gpus],
    );
    return rows.map((r) => ({ tenant: r.tenant, requests: Number(r.requests), errors: Number(r.errors) }));
  }
}
