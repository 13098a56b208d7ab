import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { InjectPool } from '@arcwatch/runtime';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';
import type { EscalationState } from './escalation.decider';

/** Escalation state per fingerprint: the truth from which timers are re-created. */
@Injectable()
export class EscalationRepository {
  private readonly t: string;

  constructor(
    @InjectPool() private readonly pool: Pool,
    @Inject(NOTIFIER_CONFIG) config: NotifierConfig,
  ) {
    this.t = `${config.dbSchema}.escalations`;
  }

  /** Reads and locks one state for the caller's transaction (timers, acks and resolutions serialise on it). */
  async lock(db: PoolClient, fingerprint: string): Promise<EscalationState | undefined> {
    const { rows } = await db.query<{ state: EscalationState }>(
      `SELECT state FROM ${this.t} WHERE fingerprint = $1 FOR UPDATE`,
      [fingerprint],
    );
    return rows[0]?.state;
  }

  async save(db: PoolClient, s: EscalationState, at: Date): Promise<void> {
    await db.query(
      `INSERT INTO ${this.t} (fingerprint, state, next_at, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (fingerprint) DO UPDATE SET state = EXCLUDED.state, next_at = EXCLUDED.next_at, updated_at = EXCLUDED.updated_at`,
      [s.fingerprint, JSON.stringify(s), s.nextAt, at.toISOString()],
    );
  }

  async get(fingerprint: string): Promise<EscalationState | undefined> {
    const { rows } = await this.pool.query<{ state: EscalationState }>(
      `SELECT state FROM ${this.t} WHERE fingerprint = $1`,
      [fingerprint],
    );
    return rows[0]?.state;
  }

  /** States waiting for a timer. */
  async waiting(): Promise<EscalationState[]> {
    const { rows } = await this.pool.query<{ state: EscalationState }>(
      `SELECT state FROM ${this.t} WHERE next_at IS NOT NULL ORDER BY next_at`,
    );
    return rows.map((r) => r.state);
  }

  /** States not resolved yet, exhausted ones included: their incident still has to close. */
  async running(): Promise<EscalationState[]> {
    const { rows } = await this.pool.query<{ state: EscalationState }>(
      `SELECT state FROM ${this.t} WHERE state->>'status' IN ('active', 'acknowledged', 'exhausted')`,
    );
    return rows.map((r) => r.state);
  }
}
