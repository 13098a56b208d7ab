import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { OutboxRelay } from '@arcwatch/outbox';
import { BILLING_CONFIG, type BillingConfig } from '../config';
import { AllocationService } from './allocation.service';

/**
 * The periodic part: allocate the windows that are due, relay the outbox. One pass at a time; a
 * failed pass is logged and the next one retries (every step is idempotent).
 */
@Injectable()
export class AllocationWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AllocationWorker.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    @Inject(BILLING_CONFIG) private readonly config: BillingConfig,
    private readonly allocation: AllocationService,
    private readonly relay: OutboxRelay,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One full pass; tests call it directly instead of waiting for the timer. */
  async runOnce(): Promise<void> {
    await this.allocation.closeDue();
    await this.relay.flush();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .catch((err: unknown) => this.logger.error(`billing pass failed: ${(err as Error).message}`))
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.config.workerIntervalMs);
  }
}
