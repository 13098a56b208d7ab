import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';
import { timerJobId, type Timer } from './escalation.decider';

export const ESCALATION_QUEUE = 'notifier-escalation';

export function redisConnection(config: NotifierConfig): Redis {
  // BullMQ workers block on Redis; they must not give up on a request (maxRetriesPerRequest: null).
  return new Redis(config.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
}

/** The producer side: timers as delayed jobs whose id carries fingerprint, epoch, cycle and level. */
@Injectable()
export class EscalationQueue implements OnModuleDestroy {
  readonly queue: Queue<Timer>;
  private readonly connection: Redis;

  constructor(@Inject(NOTIFIER_CONFIG) readonly config: NotifierConfig) {
    this.connection = redisConnection(config);
    this.queue = new Queue<Timer>(ESCALATION_QUEUE, { connection: this.connection, prefix: config.redisPrefix });
  }

  /** Adds the timer unless a job with its id exists (BullMQ ignores a known id, which is what a re-add wants). */
  async arm(timer: Timer, at: Date, now: Date): Promise<void> {
    await this.queue.add('timer', timer, {
      jobId: timerJobId(timer),
      delay: Math.max(0, at.getTime() - now.getTime()),
      removeOnComplete: { age: 3600 },
      removeOnFail: { age: 24 * 3600 },
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
    });
  }

  async has(timer: Timer): Promise<boolean> {
    const job = await this.queue.getJob(timerJobId(timer));
    return job !== undefined && job !== null;
  }

  async onModuleDestroy(): Promise<void> {
    await this.queue.close();
    this.connection.disconnect();
  }
}
