import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectClock, InjectLogger, type Clock, type Logger, type TimerHandle } from '@arcwatch/runtime';
import { CollectService } from './collect/collect.service';
import { AGENT_SETTINGS, type AgentSettings } from './config/agent-settings.loader';
import { DeliveryService } from './delivery/delivery.service';
import { AgentMetrics } from './metrics';

export const AGENT_TIMER_DISABLED = Symbol('AGENT_TIMER_DISABLED');

/**
 * Every interval: read, build, deliver. A tick that is still running when the next is due makes
 * that one skip (a hung nvidia-smi is cut by its own timeout), so ticks never pile up.
 */
@Injectable()
export class AgentLoop implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  skipped = 0;

  constructor(
    @Inject(AGENT_SETTINGS) private readonly settings: AgentSettings,
    private readonly collect: CollectService,
    private readonly delivery: DeliveryService,
    private readonly metrics: AgentMetrics,
    @InjectClock() private readonly clock: Clock,
    @InjectLogger() private readonly logger: Logger,
    @Inject(AGENT_TIMER_DISABLED) private readonly timerDisabled: boolean,
  ) {}

  onApplicationBootstrap(): void {
    if (this.timerDisabled) return;
    this.timer = this.clock.setInterval(() => void this.tick(), this.settings.intervalMs);
    void this.tick();
  }

  /** One interval of work; returns when it is done (tests call it directly). */
  tick(): Promise<void> {
    if (this.running) {
      this.skipped++;
      return this.running;
    }
    const started = performance.now();
    this.running = (async () => {
      try {
        const out = await this.collect.tick(this.clock.now());
        await this.delivery.deliver(out);
      } catch (err) {
        this.logger.error({ err }, 'agent interval failed');
      } finally {
        this.metrics.tickSeconds.observe((performance.now() - started) / 1000);
        this.running = undefined;
      }
    })();
    return this.running;
  }

  async onModuleDestroy(): Promise<void> {
    this.clock.clearInterval(this.timer);
    await this.running;
  }
}
