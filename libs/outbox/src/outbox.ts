import { asc, inArray } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool, PoolClient } from 'pg';
import type { CloudEvent } from '@arcwatch/contracts';
import type { EventBus } from '@arcwatch/messaging';
import { outboxTable, type OutboxTable } from './outbox.schema';

/** A pg client or pool: whatever the caller's transaction runs on. */
export type Queryable = Pick<PoolClient, 'query'>;

export interface OutboxEntry {
  subject: string;
  /** A CloudEvent whose id is deterministic where the fact is; it becomes the Nats-Msg-Id. */
  event: CloudEvent<unknown>;
}

/**
 * Queues events in the caller's transaction (`db` is its client). An event id already queued is
 * ignored, so deciding the same thing twice queues it once.
 */
export async function enqueueOutbox(db: Queryable, schema: string, entries: readonly OutboxEntry[]): Promise<void> {
  if (entries.length === 0) return;
  // One statement whatever the count, its rows as one JSON document: a jsonb[] parameter would be
  // an array literal with every quote of every event escaped by pg and parsed back by the server.
  await db.query(
    `INSERT INTO ${schema}.outbox (event_id, subject, event)
     SELECT x.e->>'id', x.s, x.e FROM jsonb_to_recordset($1::jsonb) AS x(s text, e jsonb)
     ON CONFLICT (event_id) DO NOTHING`,
    [JSON.stringify(entries.map((e) => ({ s: e.subject, e: e.event })))],
  );
}

export interface OutboxRelayOptions {
  pool: Pool;
  schema: string;
  bus: EventBus;
  /** Rows claimed per round (default 500). */
  batchSize?: number;
  /** Called with how many events went out, for the service's metrics. */
  onPublished?: (count: number) => void;
}

/**
 * Publishes queued events in queue order, then deletes them. Rows are claimed with
 * `FOR UPDATE SKIP LOCKED` inside a transaction that also deletes them, so replicas share the
 * work without publishing a row twice; a crash after publishing and before commit leaves the rows
 * to be published again with the same ids, which JetStream drops as duplicates within its window
 * and every consumer ignores by id after that.
 */
export class OutboxRelay {
  private readonly table: OutboxTable;
  private running: Promise<number> | undefined;

  constructor(private readonly opts: OutboxRelayOptions) {
    this.table = outboxTable(opts.schema);
  }

  /** Publishes everything pending; returns how many events went out. Concurrent calls share one run. */
  flush(): Promise<number> {
    this.running ??= this.drain().finally(() => (this.running = undefined));
    return this.running;
  }

  private async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.round();
      total += n;
      if (n === 0) return total;
    }
  }

  private async round(): Promise<number> {
    const client = await this.opts.pool.connect();
    try {
      await client.query('BEGIN');
      const db = drizzle(client);
      const rows = await db
        .select({ id: this.table.id, subject: this.table.subject, event: this.table.event })
        .from(this.table)
        .orderBy(asc(this.table.id))
        .limit(this.opts.batchSize ?? 500)
        .for('update', { skipLocked: true });
      if (rows.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      await this.opts.bus.publishMany(
        rows.map((r) => ({ subject: r.subject, event: r.event as unknown as CloudEvent<unknown> })),
      );
      await db.delete(this.table).where(
        inArray(
          this.table.id,
          rows.map((r) => r.id),
        ),
      );
      await client.query('COMMIT');
      this.opts.onPublished?.(rows.length);
      return rows.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Rows waiting (for readiness and metrics). */
  async pending(): Promise<number> {
    const { rows } = await this.opts.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.opts.schema}.outbox`);
    return Number(rows[0]?.n ?? 0);
  }
}
