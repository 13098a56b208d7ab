import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { InjectPool } from '@arcwatch/runtime';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';

/**
 * Which worker dispatches: a session advisory lock held on one connection of its own. Two
 * dispatchers over the same alerts would each flush every group and, between one's claim and its
 * notification-log entry, the other would send the same group again under the next sequence; so
 * one worker holds the lease and the others wait. PostgreSQL drops the lock with the session, so
 * a worker that dies (SIGKILL included) or loses its connection frees it at once, and the next
 * worker to ask takes over.
 */
@Injectable()
export class DispatchLeaseRepository {
  private readonly logger = new Logger(DispatchLeaseRepository.name);
  private readonly key: string;
  private held: PoolClient | undefined;

  constructor(
    @InjectPool() private readonly pool: Pool,
    @Inject(NOTIFIER_CONFIG) config: NotifierConfig,
  ) {
    this.key = `${config.dbSchema}:dispatch`;
  }

  get holding(): boolean {
    return this.held !== undefined;
  }

  /** True when this process holds the lease (taking it if it is free). */
  async acquire(): Promise<boolean> {
    if (this.held) return true;
    const client = await this.pool.connect();
    let ok = false;
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [
        this.key,
      ]);
      ok = rows[0]?.ok === true;
    } catch (err) {
      client.release(err as Error);
      throw err;
    }
    if (!ok) {
      client.release();
      return false;
    }
    const lost = (err?: Error): void => {
      if (this.held !== client) return;
      this.held = undefined;
      this.logger.warn(`dispatch lease lost: ${err?.message ?? 'connection ended'}`);
      client.release(err ?? true);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    this.held = client;
    return true;
  }

  /** Gives the lease up; the connection is closed with it, so the lock cannot outlive this call. */
  release(): void {
    const client = this.held;
    this.held = undefined;
    client?.release(true);
  }
}
