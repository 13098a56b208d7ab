import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { TRACING_CONFIG, type TracingConfig } from '../config';
import { OutboxRelay } from '@arcwatch/outbox';
import { StatsService } from '../stats/stats.service';
import { AssemblyService } from './assembly.service';

/**
 * The periodic part: assemble what is due, publish closed minutes, relay the outbox. One pass
 * at a time; a failed pass is logged and the next one retries (every step is idempotent).
 */
@Injectable()
export class AssemblyWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AssemblyWorker.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    @Inject(TRACING_CONFIG) private readonly config: TracingConfig,
    private readonly assembly: AssemblyService,
    private readonly stats: StatsService,
    private readonly relay: OutboxRelay,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.stats.loadLimits();
    this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One full pass; the tests call it directly instead of waiting for the timer. */
  async runOnce(): Promise<void> {
    await this.assembly.assembleDue();
    await this.stats.publishClosedMinutes();
    await this.relay.flush();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .catch((err: unknown) => this.logger.error(`tracing pass failed: ${(err as Error).message}`))
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.config.assemblyIntervalMs);
  }
}
