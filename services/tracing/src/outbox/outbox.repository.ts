import type { Pool } from 'pg';

export interface PendingOutboxRow {
  id: string;
  subject: string;
  event: { id: string } & Record<string, unknown>;
}

/** SQL of the outbox: rows written in the transaction that decided them, deleted once published. */
export class OutboxRepository {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  async pending(limit: number): Promise<PendingOutboxRow[]> {
    const { rows } = await this.pool.query<PendingOutboxRow>(`SELECT id::text AS id, subject, event FROM ${this.schema}.outbox ORDER BY id LIMIT $1`, [limit]);
    return rows;
  }

  async remove(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query(`DELETE FROM ${this.schema}.outbox WHERE id = ANY($1::bigint[])`, [ids]);
  }
}
