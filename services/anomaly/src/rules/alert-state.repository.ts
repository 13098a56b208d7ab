import { Inject, Injectable } from '@nestjs/common';
import { drizzle } from 'drizzle-orm/node-postgres';
import { sql } from 'drizzle-orm';
import type { Pool } from 'pg';
import type { RuleAlertState } from '@arcwatch/alerting';
import { enqueueOutbox, type OutboxEntry } from '@arcwatch/outbox';
import { InjectPool } from '@arcwatch/runtime';
import { ANOMALY_CONFIG, type AnomalyConfig } from '../config';
import { anomalyTables } from '../database/anomaly.schema';

/** Alert state per alerting rule, and the outbox rows of its transitions, in one transaction. */
@Injectable()
export class AlertStateRepository {
  private readonly tables: ReturnType<typeof anomalyTables>;

  constructor(
    @InjectPool() private readonly pool: Pool,
    @Inject(ANOMALY_CONFIG) private readonly config: AnomalyConfig,
  ) {
    this.tables = anomalyTables(config.dbSchema);
  }

  async loadAll(): Promise<Map<string, RuleAlertState>> {
    const rows = await drizzle(this.pool).select().from(this.tables.alertState);
    return new Map(rows.map((r) => [r.ruleKey, r.state]));
  }

  /** Saves the states of one group's evaluation and queues its events, atomically. */
  async commit(
    states: ReadonlyArray<{ ruleKey: string; state: RuleAlertState }>,
    evaluatedAtMs: number,
    outbox: readonly OutboxEntry[],
  ): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      if (states.length > 0) {
        const t = this.tables.alertState;
        await drizzle(client)
          .insert(t)
          .values(states.map((s) => ({ ruleKey: s.ruleKey, state: s.state, evaluatedAt: new Date(evaluatedAtMs) })))
          .onConflictDoUpdate({
            target: t.ruleKey,
            set: { state: sql`excluded.state`, evaluatedAt: sql`excluded.evaluated_at` },
          });
      }
      await enqueueOutbox(client, this.config.dbSchema, outbox);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
