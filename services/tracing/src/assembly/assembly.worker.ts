import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { OutboxRelay } from '@arcwatch/outbox';
import { InjectClock, InjectLogger, PeriodicTask, type Clock, type Logger } from '@arcwatch/runtime';
import { TRACING_CONFIG, type TracingConfig } from '../config';
import { StatsService } from '../stats/stats.service';
import { AssemblyService } from './assembly.service';

/**
 * The periodic part: assemble what is due, publish closed minutes, relay the outbox. One pass
 * at a time; a failed pass is logged and the next one retries (every step is idempotent).
 */
@Injectable()
export class AssemblyWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly task: PeriodicTask;

  constructor(
    @Inject(TRACING_CONFIG) config: TracingConfig,
    @InjectClock() clock: Clock,
    @InjectLogger() logger: Logger,
    private readonly assembly: AssemblyService,
    private readonly stats: StatsService,
    private readonly relay: OutboxRelay,
  ) {
    this.task = new PeriodicTask({
      name: 'tracing',
      intervalMs: config.assemblyIntervalMs,
      clock,
      logger,
      run: () => this.pass(),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.stats.loadLimits();
    this.task.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }

  /** One full pass; the tests call it directly instead of waiting for the timer. */
  runOnce(): Promise<void> {
    return this.task.runNow();
  }

  private async pass(): Promise<void> {
    await this.assembly.assembleDue();
    await this.stats.publishClosedMinutes();
    await this.relay.flush();
  }
}
