import type { Clock, TimerHandle } from './clock';
import type { Logger } from './logger';

/**
 * A pass that runs every `intervalMs` on the injected clock, one at a time: the next pass is
 * armed only when the previous one has settled, a failed pass is logged and the next one
 * retries (so the pass must be idempotent), and `stop()` waits for the pass in flight. Workers
 * (assembly, allocation, escalation reconcilers) own one each, started in
 * onApplicationBootstrap and stopped in onModuleDestroy.
 */
export class PeriodicTask {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly opts: { name: string; intervalMs: number; clock: Clock; logger: Logger; run: () => Promise<void> },
  ) {}

  start(): void {
    this.stopped = false;
    this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.clock.clearTimeout(this.timer);
    await this.running;
  }

  /** Runs a pass now (tests, or a nudge after new work arrived); shares the pass already running. */
  runNow(): Promise<void> {
    this.running ??= this.opts.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => {
      this.runNow()
        .catch((err: unknown) => this.opts.logger.error({ err, task: this.opts.name }, `${this.opts.name} pass failed`))
        .finally(() => this.arm());
    }, this.opts.intervalMs);
  }
}
