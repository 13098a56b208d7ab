import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { InjectPool } from '@arcwatch/runtime';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';

export interface StoredAlert {
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: Date;
  endsAt: Date | null;
  generatorURL: string;
  updatedAt: Date;
  source: string;
  ackedAt: Date | null;
  ackedBy: string | null;
  ackComment: string | null;
}

interface Row {
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  starts_at: Date;
  ends_at: Date | null;
  generator_url: string;
  updated_at: Date;
  source: string;
  acked_at: Date | null;
  acked_by: string | null;
  ack_comment: string | null;
  seq: string;
}

const toAlert = (r: Row): StoredAlert => ({
  fingerprint: r.fingerprint,
  labels: r.labels,
  annotations: r.annotations,
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  generatorURL: r.generator_url,
  updatedAt: r.updated_at,
  source: r.source,
  ackedAt: r.acked_at,
  ackedBy: r.acked_by,
  ackComment: r.ack_comment,
});

/** The only place with SQL over notifier.alerts. */
@Injectable()
export class AlertsRepository {
  private readonly t: string;

  constructor(
    @InjectPool() private readonly pool: Pool,
    @Inject(NOTIFIER_CONFIG) config: NotifierConfig,
  ) {
    this.t = `${config.dbSchema}.alerts`;
  }

  /**
   * Stores alerts as Alertmanager merges them: a new episode (a different startsAt after the old
   * one ended) replaces the alert and clears its acknowledgement; a refresh of the same episode
   * keeps the earliest startsAt and takes the newer endsAt.
   */
  async upsert(
    alerts: readonly Omit<StoredAlert, 'ackedAt' | 'ackedBy' | 'ackComment'>[],
    db: Pool | PoolClient = this.pool,
  ): Promise<void> {
    if (alerts.length === 0) return;
    await db.query(
      `INSERT INTO ${this.t} AS a (fingerprint, labels, annotations, starts_at, ends_at, generator_url, updated_at, source)
       SELECT * FROM unnest($1::text[], $2::jsonb[], $3::jsonb[], $4::timestamptz[], $5::timestamptz[], $6::text[], $7::timestamptz[], $8::text[])
       ON CONFLICT (fingerprint) DO UPDATE SET
         labels = EXCLUDED.labels,
         annotations = EXCLUDED.annotations,
         generator_url = EXCLUDED.generator_url,
         updated_at = EXCLUDED.updated_at,
         source = EXCLUDED.source,
         starts_at = CASE WHEN a.ends_at IS NOT NULL AND a.ends_at <= EXCLUDED.updated_at AND EXCLUDED.starts_at > a.ends_at
                          THEN EXCLUDED.starts_at ELSE LEAST(a.starts_at, EXCLUDED.starts_at) END,
         ends_at = EXCLUDED.ends_at,
         acked_at = CASE WHEN a.ends_at IS NOT NULL AND a.ends_at <= EXCLUDED.updated_at AND EXCLUDED.starts_at > a.ends_at THEN NULL ELSE a.acked_at END,
         acked_by = CASE WHEN a.ends_at IS NOT NULL AND a.ends_at <= EXCLUDED.updated_at AND EXCLUDED.starts_at > a.ends_at THEN NULL ELSE a.acked_by END`,
      [
        alerts.map((a) => a.fingerprint),
        alerts.map((a) => JSON.stringify(a.labels)),
        alerts.map((a) => JSON.stringify(a.annotations)),
        alerts.map((a) => a.startsAt.toISOString()),
        alerts.map((a) => a.endsAt?.toISOString() ?? null),
        alerts.map((a) => a.generatorURL),
        alerts.map((a) => a.updatedAt.toISOString()),
        alerts.map((a) => a.source),
      ],
    );
  }

  async all(): Promise<StoredAlert[]> {
    const { rows } = await this.pool.query<Row>(`SELECT *, 0 AS seq FROM ${this.t} ORDER BY fingerprint`);
    return rows.map(toAlert);
  }

  /** Alerts changed since `since` (the dispatcher's poll, so API and worker processes may be apart). */
  async changedSince(since: Date): Promise<StoredAlert[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT *, 0 AS seq FROM ${this.t} WHERE updated_at >= $1 ORDER BY updated_at`,
      [since.toISOString()],
    );
    return rows.map(toAlert);
  }

  async get(fingerprint: string, db: Pool | PoolClient = this.pool): Promise<StoredAlert | undefined> {
    const { rows } = await db.query<Row>(`SELECT *, 0 AS seq FROM ${this.t} WHERE fingerprint = $1`, [fingerprint]);
    return rows[0] ? toAlert(rows[0]) : undefined;
  }

  async acknowledge(fingerprint: string, by: string, comment: string, at: Date, db: PoolClient): Promise<void> {
    await db.query(`UPDATE ${this.t} SET acked_at = $2, acked_by = $3, ack_comment = $4 WHERE fingerprint = $1`, [
      fingerprint,
      at.toISOString(),
      by,
      comment,
    ]);
  }

  /** Resolved alerts older than `before` leave the store (Alertmanager's GC). */
  async gc(before: Date): Promise<number> {
    const r = await this.pool.query(`DELETE FROM ${this.t} WHERE ends_at IS NOT NULL AND ends_at < $1`, [
      before.toISOString(),
    ]);
    return r.rowCount ?? 0;
  }
}
