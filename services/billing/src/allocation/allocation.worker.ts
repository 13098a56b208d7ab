import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { OutboxRelay } from '@arcwatch/outbox';
import { InjectClock, InjectLogger, PeriodicTask, type Clock, type Logger } from '@arcwatch/runtime';
import { BILLING_CONFIG, type BillingConfig } from '../config';
import { AllocationService } from './allocation.service';

/**
 * The periodic part: allocate the windows that are due, relay the outbox. One pass at a time; a
 * failed pass is logged and the next one retries (every step is idempotent).
 */
@Injectable()
export class AllocationWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly task: PeriodicTask;

  constructor(
    @Inject(BILLING_CONFIG) config: BillingConfig,
    @InjectClock() clock: Clock,
    @InjectLogger() logger: Logger,
    private readonly allocation: AllocationService,
    private readonly relay: OutboxRelay,
  ) {
    this.task = new PeriodicTask({
      name: 'billing',
      intervalMs: config.workerIntervalMs,
      clock,
      logger,
      run: () => this.pass(),
    });
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }

  /** One full pass; tests call it directly instead of waiting for the timer. */
  runOnce(): Promise<void> {
    return this.task.runNow();
  }

  private async pass(): Promise<void> {
    await this.allocation.closeDue();
    await this.relay.flush();
  }
}
