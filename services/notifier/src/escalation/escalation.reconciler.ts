import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectClock, type Clock, type TimerHandle } from '@arcwatch/runtime';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';
import { pendingTimer } from './escalation.decider';
import { EscalationQueue } from './escalation.queue';
import { EscalationRepository } from './escalation.repository';

/**
 * PostgreSQL holds every escalation's next timer; Redis may lose its data (flushed, failed over
 * without persistence). Every few seconds the timers the states wait for are checked and the
 * missing ones re-armed with the delay that is left (at once when overdue).
 */
@Injectable()
export class EscalationReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(EscalationReconciler.name);
  private handle: TimerHandle | undefined;
  private running: Promise<number> | undefined;

  constructor(
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    @InjectClock() private readonly clock: Clock,
    private readonly repo: EscalationRepository,
    private readonly queue: EscalationQueue,
  ) {}

  onApplicationBootstrap(): void {
    this.handle = this.clock.setInterval(
      () => void this.reconcile().catch((e: unknown) => this.logger.warn(`reconcile: ${(e as Error).message}`)),
      this.config.reconcileIntervalMs,
    );
  }

  /** Re-arms missing timers; returns how many. */
  reconcile(): Promise<number> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<number> {
    let n = 0;
    const now = new Date(this.clock.now());
    for (const s of await this.repo.waiting()) {
      const p = pendingTimer(s);
      if (!p || (await this.queue.has(p.timer))) continue;
      await this.queue.arm(p.timer, new Date(p.at), now);
      n++;
    }
    if (n > 0) this.logger.warn(`re-armed ${n} escalation timer(s) missing from Redis`);
    return n;
  }

  onModuleDestroy(): void {
    this.clock.clearInterval(this.handle);
  }
}
