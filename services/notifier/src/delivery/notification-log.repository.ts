import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { InjectPool } from '@arcwatch/runtime';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';
import type { NotifiedEntry } from '../dispatch/dispatch.decider';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface NotificationRecord {
  id: number;
  groupKey: string;
  receiver: string;
  integration: string;
  channel: string;
  sequence: number;
  status: DeliveryStatus;
  alertStatus: 'firing' | 'resolved';
  fingerprints: string[];
  payload: Record<string, unknown>;
  attempts: number;
  lastError: string | null;
  escalation: { policy: string; level: number; cycle: number } | null;
  createdAt: Date;
  finishedAt: Date | null;
}

interface Row {
  id: string;
  group_key: string;
  receiver: string;
  integration: string;
  channel: string;
  sequence: number;
  status: DeliveryStatus;
  alert_status: 'firing' | 'resolved';
  fingerprints: string[];
  payload: Record<string, unknown>;
  attempts: number;
  last_error: string | null;
  escalation: { policy: string; level: number; cycle: number } | null;
  created_at: Date;
  finished_at: Date | null;
}

const toRecord = (r: Row): NotificationRecord => ({
  id: Number(r.id),
  groupKey: r.group_key,
  receiver: r.receiver,
  integration: r.integration,
  channel: r.channel,
  sequence: r.sequence,
  status: r.status,
  alertStatus: r.alert_status,
  fingerprints: r.fingerprints,
  payload: r.payload,
  attempts: r.attempts,
  lastError: r.last_error,
  escalation: r.escalation,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
});

/** Alertmanager's notification log (what each integration last heard) and the delivery records. */
@Injectable()
export class NotificationLogRepository {
  private readonly s: string;

  constructor(
    @InjectPool() private readonly pool: Pool,
    @Inject(NOTIFIER_CONFIG) config: NotifierConfig,
  ) {
    this.s = config.dbSchema;
  }

  async lastNotified(groupKey: string, receiver: string, integration: string): Promise<NotifiedEntry | undefined> {
    const { rows } = await this.pool.query<{
      sequence: number;
      firing: string[];
      resolved: string[];
      notified_at: Date;
    }>(
      `SELECT sequence, firing, resolved, notified_at FROM ${this.s}.nflog WHERE group_key = $1 AND receiver = $2 AND integration = $3`,
      [groupKey, receiver, integration],
    );
    const r = rows[0];
    return r ? { sequence: r.sequence, firing: r.firing, resolved: r.resolved, at: r.notified_at } : undefined;
  }

  /** The highest sequence used for (group, receiver, integration), delivered or not. */
  async lastSequence(groupKey: string, receiver: string, integration: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number | null }>(
      `SELECT max(sequence) AS n FROM ${this.s}.notifications WHERE group_key = $1 AND receiver = $2 AND integration = $3`,
      [groupKey, receiver, integration],
    );
    return rows[0]?.n ?? 0;
  }

  async remember(
    db: PoolClient,
    groupKey: string,
    receiver: string,
    integration: string,
    e: NotifiedEntry,
  ): Promise<void> {
    await db.query(
      `INSERT INTO ${this.s}.nflog (group_key, receiver, integration, sequence, firing, resolved, notified_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (group_key, receiver, integration) DO UPDATE SET sequence = EXCLUDED.sequence, firing = EXCLUDED.firing,
         resolved = EXCLUDED.resolved, notified_at = EXCLUDED.notified_at`,
      [
        groupKey,
        receiver,
        integration,
        e.sequence,
        JSON.stringify(e.firing),
        JSON.stringify(e.resolved),
        e.at.toISOString(),
      ],
    );
  }

  async rememberDirect(groupKey: string, receiver: string, integration: string, e: NotifiedEntry): Promise<void> {
    const client = await this.pool.connect();
    try {
      await this.remember(client, groupKey, receiver, integration, e);
    } finally {
      client.release();
    }
  }

  /** Records a notification before it is sent; an existing one (same group, receiver, integration, sequence) is returned instead. */
  async claim(
    db: Pool | PoolClient,
    n: Omit<NotificationRecord, 'id' | 'status' | 'attempts' | 'lastError' | 'finishedAt'>,
  ): Promise<{ record: NotificationRecord; created: boolean }> {
    const ins = await db.query<Row>(
      `INSERT INTO ${this.s}.notifications (group_key, receiver, integration, channel, sequence, status, alert_status, fingerprints, payload, attempts, escalation, created_at)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, 0, $9, $10)
       ON CONFLICT ON CONSTRAINT notifications_once DO NOTHING RETURNING *`,
      [
        n.groupKey,
        n.receiver,
        n.integration,
        n.channel,
        n.sequence,
        n.alertStatus,
        JSON.stringify(n.fingerprints),
        JSON.stringify(n.payload),
        n.escalation ? JSON.stringify(n.escalation) : null,
        n.createdAt.toISOString(),
      ],
    );
    if (ins.rows[0]) return { record: toRecord(ins.rows[0]), created: true };
    const { rows } = await db.query<Row>(
      `SELECT * FROM ${this.s}.notifications WHERE group_key = $1 AND receiver = $2 AND integration = $3 AND sequence = $4`,
      [n.groupKey, n.receiver, n.integration, n.sequence],
    );
    return { record: toRecord(rows[0]), created: false };
  }

  async finish(
    db: PoolClient,
    id: number,
    status: 'delivered' | 'failed',
    attempts: number,
    error: string | null,
    at: Date,
  ): Promise<void> {
    await db.query(
      `UPDATE ${this.s}.notifications SET status = $2, attempts = $3, last_error = $4, finished_at = $5 WHERE id = $1`,
      [id, status, attempts, error, at.toISOString()],
    );
  }

  async pending(): Promise<NotificationRecord[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM ${this.s}.notifications WHERE status = 'pending' ORDER BY id`,
    );
    return rows.map(toRecord);
  }

  async forFingerprint(fingerprint: string): Promise<NotificationRecord[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM ${this.s}.notifications WHERE fingerprints ? $1 ORDER BY id`,
      [fingerprint],
    );
    return rows.map(toRecord);
  }

  async list(status: DeliveryStatus | undefined, limit: number): Promise<NotificationRecord[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM ${this.s}.notifications WHERE ($1::text IS NULL OR status = $1) ORDER BY id DESC LIMIT $2`,
      [status ?? null, limit],
    );
    return rows.map(toRecord);
  }
}
