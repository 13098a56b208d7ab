import { finished } from 'node:stream/promises';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
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

/**
 * Queues events already serialized to UTF-8 in the caller's transaction by one binary COPY: each
 * event's bytes are written to the connection as they are, where a parameter would be copied
 * into the statement's message first (for 300 KB events, the largest cost of queueing them). For
 * events whose ids cannot have been queued before, because they are derived from facts this
 * transaction is the first to decide (a request that the transaction finished, say): COPY has no
 * ON CONFLICT, so an id already queued fails the statement, and the transaction with it. Use
 * enqueueOutbox where an event may be decided twice.
 */
export async function copyIntoOutbox(
  db: PoolClient,
  schema: string,
  entries: ReadonlyArray<{ subject: string; id: string; json: Uint8Array }>,
): Promise<void> {
  if (entries.length === 0) return;
  const stream = db.query(copyFrom(`COPY ${schema}.outbox (event_id, subject, event) FROM STDIN (FORMAT binary)`));
  const done = finished(stream);
  // The binary format: a signature, flags and header extension (both 0); per row, the number of
  // fields and each field's length and bytes (text's binary form is its UTF-8); -1 at the end.
  stream.write(BINARY_COPY_HEADER);
  for (const e of entries) {
    const id = Buffer.from(e.id, 'utf8');
    const subject = Buffer.from(e.subject, 'utf8');
    const head = Buffer.allocUnsafe(2 + 4 + id.length + 4 + subject.length + 4);
    let at = head.writeInt16BE(3, 0);
    at = head.writeInt32BE(id.length, at);
    at += id.copy(head, at);
    at = head.writeInt32BE(subject.length, at);
    at += subject.copy(head, at);
    head.writeInt32BE(e.json.length, at);
    stream.write(head);
    stream.write(e.json);
  }
  stream.end(BINARY_COPY_TRAILER);
  await done;
}

const BINARY_COPY_HEADER = Buffer.concat([
  Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
  Buffer.alloc(8), // flags, header extension length
]);
const BINARY_COPY_TRAILER = Buffer.from([0xff, 0xff]);

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
   * Publishes entries that the caller queued (copyIntoOutbox, enqueueOutbox) in a transaction
   * that has committed, from the bytes in hand, then deletes their rows: the relay's read of rows
   * it was just given is skipped. Calls are published one after the other, in call order. A
   * failure leaves the rows queued for `flush`, as a crash would, and is reported to
   * `onCommittedFailed`; the promise does not reject. A row that `flush` of another replica
   * publishes as well goes out twice with one id, which JetStream drops as a duplicate. Resolves
   * once this call's entries are out (or left).
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
