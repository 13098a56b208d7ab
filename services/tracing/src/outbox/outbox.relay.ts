import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { EventBus } from '@arcwatch/messaging';
import type { CloudEvent } from '@arcwatch/contracts';
import { TRACING_CONFIG, type TracingConfig } from '../config';
import { PG_POOL } from '../database/database.providers';
import { TracingMetrics } from '../health/tracing.metrics';
import { OutboxRepository } from './outbox.repository';

/**
 * Publishes outbox rows after their transaction committed, then deletes them. A crash between
 * publish and delete publishes again with the same event id: JetStream drops the duplicate
 * within its window and every projection ignores it by id after that.
 */
@Injectable()
export class OutboxRelay {
  private readonly repo: OutboxRepository;

  constructor(
    @Inject(PG_POOL) pool: Pool,
    @Inject(TRACING_CONFIG) config: TracingConfig,
    @Inject(EventBus) private readonly bus: EventBus,
    private readonly metrics: TracingMetrics,
  ) {
    this.repo = new OutboxRepository(pool, config.dbSchema);
  }

  /** Publishes everything pending; returns how many rows went out. */
  async flush(): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = await this.repo.pending(500);
      if (rows.length === 0) return total;
      await this.bus.publishMany(rows.map((r) => ({ subject: r.subject, event: r.event as unknown as CloudEvent<unknown> })));
      await this.repo.remove(rows.map((r) => r.id));
      this.metrics.inc('outbox_published', rows.length);
      total += rows.length;
    }
  }
}
