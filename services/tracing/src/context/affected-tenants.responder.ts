import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from '@nats-io/nats-core';
import type { Pool } from 'pg';
import {
  ALERT_CONTEXT_SUBJECTS,
  affectedTenantsRequestV1Schema,
  formatZodError,
  type AffectedTenantsReplyV1,
} from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { InjectClock, InjectLogger, PG_POOL, type Clock, type Logger } from '@arcwatch/runtime';
import { TRACING_CONFIG, type TracingConfig } from '../config';
import { AffectedTenantsRepository } from './affected-tenants.repository';

/**
 * Answers the notifier's "which tenants is this instance / node / GPU serving right now"
 * (aw.query.tracing.affected-tenants, core NATS request/reply). Replicas answer as one queue
 * group, so each question gets one answer. A malformed question gets `{ error }`, never silence.
 */
@Injectable()
export class AffectedTenantsResponder implements OnApplicationBootstrap, OnModuleDestroy {
  private sub: Subscription | undefined;
  private readonly repo: AffectedTenantsRepository;

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(PG_POOL) pool: Pool,
    @Inject(TRACING_CONFIG) config: TracingConfig,
    @InjectClock() private readonly clock: Clock,
    @InjectLogger() private readonly logger: Logger,
  ) {
    this.repo = new AffectedTenantsRepository(pool, config.dbSchema);
  }

  onApplicationBootstrap(): void {
    this.sub = this.bus.nc.subscribe(this.bus.naming.toWire(ALERT_CONTEXT_SUBJECTS.affectedTenants), {
      queue: 'tracing',
      callback: (err, msg) => {
        if (err) return;
        void this.answer(msg.json<unknown>())
          .then((reply) => msg.respond(JSON.stringify(reply)))
          .catch((e: unknown) => {
            this.logger.warn({ err: e }, 'affected-tenants question not answered');
            msg.respond(JSON.stringify({ error: (e as Error).message }));
          });
      },
    });
  }

  onModuleDestroy(): void {
    this.sub?.unsubscribe();
  }

  async answer(question: unknown): Promise<AffectedTenantsReplyV1 | { error: string }> {
    const q = affectedTenantsRequestV1Schema.safeParse(question);
    if (!q.success) return { error: formatZodError(q.error) };
    const { instance, node, gpus, windowSeconds } = q.data;
    return { tenants: await this.repo.since(this.clock.now() - windowSeconds * 1000, { instance, node, gpus }) };
  }
}
