import type { CollectService } from './collect/collect.service';
import type { AgentSettings } from './config/agent-settings.loader';
import type { DeliveryService } from './delivery/delivery.service';
import type { AgentMetrics } from './metrics';
import type { Clock, Logger, TimerHandle } from './runtime-lite';

/**
 * Every interval: read, build, deliver. A tick that is still running when the next is due makes
 * that one skip (a hung nvidia-smi is cut by its own timeout), so ticks never pile up.
 */
export class AgentLoop {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  skipped = 0;

  constructor(
    private readonly settings: AgentSettings,
    private readonly collect: CollectService,
    private readonly delivery: DeliveryService,
    private readonly metrics: AgentMetrics,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Starts the interval timer and the first tick at once. */
  start(): void {
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

  /** No new ticks; resolves when the one in progress is done. */
  async stop(): Promise<void> {
    this.clock.clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
