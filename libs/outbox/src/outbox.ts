import type { Pool, PoolClient } from 'pg';
import type { CloudEvent } from '@arcwatch/contracts';
import type { EventBus, SerializedEventItem } from '@arcwatch/messaging';

/** A pg client or pool: whatever the caller's transaction runs on. */
export type Queryable = Pick<PoolClient, 'query'>;

export interface OutboxEntry {
  subject: string;
  /** A CloudEvent whose id is deterministic where the fact is; it becomes the Nats-Msg-Id. */
  event: CloudEvent<unknown>;
}

/**
 * An event already serialized (`json`, text or its UTF-8 bytes), with its id: queued and published
 * as it is. Bytes go to PostgreSQL as a binary parameter of the text column, unescaped, and to
 * JetStream without being encoded again.
 */
export type SerializedOutboxEntry = SerializedEventItem;

/** Rows per INSERT: three parameters each, well under PostgreSQL's 65,535. */
const ROWS_PER_STATEMENT = 1_000;

/**
 * Queues events in the caller's transaction (`db` is its client). An event id already queued is
 * ignored, so deciding the same thing twice queues it once. Each event is serialized here, once:
 * the row holds the bytes the relay publishes.
 */
export async function enqueueOutbox(
  db: Queryable,
  schema: string,
  entries: ReadonlyArray<OutboxEntry | SerializedOutboxEntry>,
): Promise<void> {
  for (let from = 0; from < entries.length; from += ROWS_PER_STATEMENT) {
    const rows = entries.slice(from, from + ROWS_PER_STATEMENT);
    // One parameter per value, sent as it is: an array parameter would be a literal with every
    // quote of every event escaped by pg and parsed back by the server.
    const values: string[] = [];
    const params: Array<string | Uint8Array> = [];
    for (const e of rows) {
      const n = params.length;
      values.push(`($${n + 1}, $${n + 2}, $${n + 3})`);
      if ('json' in e) params.push(e.id, e.subject, e.json);
      else params.push(e.event.id, e.subject, JSON.stringify(e.event));
    }
    await db.query(
      `INSERT INTO ${schema}.outbox (event_id, subject, event) VALUES ${values.join(', ')}
       ON CONFLICT (event_id) DO NOTHING`,
      params,
    );
  }
}

export interface OutboxRelayOptions {
  pool: Pool;
  schema: string;
  bus: EventBus;
  /** Rows claimed per round (default 500). */
  batchSize?: number;
  /** Called with how many events went out, for the service's metrics. */
  onPublished?: (count: number) => void;
  /** Told when publishing committed entries failed (they stay queued for `flush`). */
  onCommittedFailed?: (err: unknown, count: number) => void;
}

/**
 * Publishes queued events in queue order, then deletes them. Rows are claimed with
 * `FOR UPDATE SKIP LOCKED` inside a transaction that also deletes them, so replicas share the
 * work without publishing a row twice; a crash after publishing and before commit leaves the rows
 * to be published again with the same ids, which JetStream drops as duplicates within its window
 * and every consumer ignores by id after that.
 */
export class OutboxRelay {
  private running: Promise<number> | undefined;
  /** The committed entries being published by publishCommitted, one call after the other. */
  private committed: Promise<void> = Promise.resolve();
  private committedWaiting = 0;

  constructor(private readonly opts: OutboxRelayOptions) {}

  /**
   * Publishes everything pending; returns how many events went out. Concurrent calls share one
   * run. It starts once the publishCommitted calls made before it have settled, so that it does
   * not read back and publish again what they are sending.
   */
  flush(): Promise<number> {
    this.running ??= this.committed.then(() => this.drain()).finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * Publishes entries that the caller queued (enqueueOutbox) in a transaction that has committed,
   * from the bytes in hand, then deletes their rows: the relay's read of rows it was just given is
   * skipped. Calls are published one after the other, in call order. A failure leaves the rows
   * queued for `flush`, as a crash would, and is reported to `onCommittedFailed`; the promise does
   * not reject. A row that `flush` of another replica publishes as well goes out twice with one
   * id, which JetStream drops as a duplicate. Resolves once this call's entries are out (or left).
   */
  publishCommitted(entries: readonly SerializedOutboxEntry[]): Promise<void> {
    if (entries.length === 0) return this.committed;
    this.committedWaiting++;
    const run = this.committed.then(async () => {
      try {
        await this.opts.bus.publishMany(entries);
        await this.opts.pool.query(`DELETE FROM ${this.opts.schema}.outbox WHERE event_id = ANY($1::text[])`, [
          entries.map((e) => e.id),
        ]);
        this.opts.onPublished?.(entries.length);
      } catch (err) {
        this.opts.onCommittedFailed?.(err, entries.length);
      } finally {
        this.committedWaiting--;
      }
    });
    this.committed = run;
    return run;
  }

  /** Settles once every publishCommitted call made so far has (before closing the bus, say). */
  settled(): Promise<void> {
    return this.committed;
  }

  /** publishCommitted calls not settled yet (for back-pressure: a caller may wait beyond a few). */
  get committedPending(): number {
    return this.committedWaiting;
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
      const { rows } = await client.query<{ id: string; event_id: string; subject: string; event: string }>(
        `SELECT id, event_id, subject, event FROM ${this.opts.schema}.outbox
          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.opts.batchSize ?? 500],
      );
      if (rows.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      await this.opts.bus.publishMany(rows.map((r) => ({ subject: r.subject, id: r.event_id, json: r.event })));
      await client.query(`DELETE FROM ${this.opts.schema}.outbox WHERE id = ANY($1::bigint[])`, [
        rows.map((r) => r.id),
      ]);
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
