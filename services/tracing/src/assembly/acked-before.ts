import { Inject, Injectable } from '@nestjs/common';
import { EventBus } from '@arcwatch/messaging';
import { SUBJECTS } from '@arcwatch/contracts';
import { InjectClock, InjectLogger, type Clock, type Logger } from '@arcwatch/runtime';
import { ASSEMBLY_DURABLE } from './assembly-durable';

/**
 * The least time between two asks: the assembly pass runs every 250 ms by default, and tracing
 * does not ask the server on every pass (issue 12; docs/messaging.md). A request due by its
 * deadline waits at most this much longer.
 */
export const ACKED_BEFORE_MIN_ASK_MS = 1_000;

/**
 * A time before which every request-event message has been acked by the assembly consumer, so
 * its events are committed: the check the due pass makes before it assembles a request because
 * a deadline passed (AssemblyService.assembleDue). The assembly clock alone cannot tell: a member
 * that pulled messages and died holds them, unseen by the others, until the ack wait runs out
 * (30 s), and meanwhile the clock moves on with the members still running.
 *
 * Asked of the server (one consumer info and one message read) only when such a decision is to
 * be made and the last answer does not cover it, at most once per ACKED_BEFORE_MIN_ASK_MS (on
 * NATS 2.9 a consumer info every 50 ms slows delivery down: docs/messaging.md). An older answer
 * is still true, only more cautious: the oldest unacked message only gets younger, and "nothing
 * unacked" at a time says nothing of what was stored after it. When the server cannot be asked
 * the answer stays the last one (or "nothing yet"): no newer deadline is let through until it can.
 */
@Injectable()
export class AckedBefore {
  private last: { askedAtMs: number; beforeMs: number } | undefined;
  private failing = false;

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @InjectClock() private readonly clock: Clock,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  /** The answer, asked again if the last one is not above `needAboveMs` and old enough. */
  async ms(needAboveMs: number): Promise<number> {
    const now = this.clock.now();
    const last = this.last;
    if (last !== undefined && (last.beforeMs > needAboveMs || now - last.askedAtMs < ACKED_BEFORE_MIN_ASK_MS))
      return last.beforeMs;
    try {
      const oldest = await this.bus.oldestUnackedAt('requests', ASSEMBLY_DURABLE, SUBJECTS.requestEventsAll);
      this.last = { askedAtMs: now, beforeMs: oldest === undefined ? now : oldest.getTime() };
      if (this.failing) this.logger.info('the assembly consumer can be asked for its unacked messages again');
      this.failing = false;
      return this.last.beforeMs;
    } catch (err) {
      if (!this.failing)
        this.logger.warn(
          { err },
          "cannot ask for the assembly consumer's unacked messages: no request is assembled by its deadline until it can",
        );
      this.failing = true;
      this.last = { askedAtMs: now, beforeMs: last?.beforeMs ?? -Infinity };
      return this.last.beforeMs;
    }
  }
}
