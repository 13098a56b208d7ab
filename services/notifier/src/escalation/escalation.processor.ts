import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';
import type { Timer } from './escalation.decider';
import { ESCALATION_QUEUE, redisConnection } from './escalation.queue';
import { EscalationService } from './escalation.service';

/** The BullMQ worker: imported only by the worker role's module; one job = one timer. */
@Injectable()
export class EscalationProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(EscalationProcessor.name);
  private worker: Worker<Timer> | undefined;
  private connection: Redis | undefined;

  constructor(
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    private readonly escalations: EscalationService,
  ) {}

  onApplicationBootstrap(): void {
    this.connection = redisConnection(this.config);
    this.worker = new Worker<Timer>(ESCALATION_QUEUE, async (job) => this.escalations.onTimer(job.data), {
      connection: this.connection,
      prefix: this.config.redisPrefix,
      concurrency: 8,
    });
    // `failed` fires on every attempt; only the last one is worth an error line.
    this.worker.on('failed', (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1))
        this.logger.error(`escalation timer ${job.id} failed for good: ${err.message}`);
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker?.close();
    this.connection?.disconnect();
  }
}
