import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  EventBus,
  PoisonMessageError,
  RetryableError,
  type ConsumerHandle,
  type InboundMessage,
} from '@arcwatch/messaging';
import {
  EVENT_TYPES,
  SUBJECTS,
  parseCloudEvent,
  requestCompletedV1Schema,
  type RequestCompletedV1,
} from '@arcwatch/contracts';
import { ALLOCATION_DURABLE, AllocationService } from './allocation.service';

/**
 * Request records (aw.requests.v1.completed.>) into billing's request intervals, a group at a
 * time: acked only after the group's transaction committed. A message that is not a request
 * record is dead-lettered on its own; the rest of its group is stored.
 */
@Injectable()
export class AllocationConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AllocationConsumer.name);
  private handle: ConsumerHandle | undefined;

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    private readonly allocation: AllocationService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.handle = await this.bus.consumeBatch({
      stream: 'requests',
      durable: ALLOCATION_DURABLE,
      filterSubject: SUBJECTS.requestCompletedAll,
      maxBatch: 500,
      maxWaitMs: 50,
      maxAckPending: 2_000,
      handler: async (msgs) => {
        const { records, failed } = parseRecords(msgs);
        try {
          await this.allocation.recordBatch(records);
        } catch (err) {
          throw new RetryableError(`storing ${msgs.length} request records: ${(err as Error).message}`, undefined, {
            cause: err,
          });
        }
        return { failed };
      },
    });
    this.logger.log(`consuming ${SUBJECTS.requestCompletedAll} as ${ALLOCATION_DURABLE}`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.handle?.stop();
  }
}

export function parseRecords(msgs: readonly InboundMessage[]): {
  records: RequestCompletedV1[];
  failed: Map<number, PoisonMessageError>;
} {
  const records: RequestCompletedV1[] = [];
  const failed = new Map<number, PoisonMessageError>();
  for (const msg of msgs) {
    const r = parseCloudEvent(msg.data, EVENT_TYPES.requestCompleted, requestCompletedV1Schema);
    if (r.ok) records.push(r.event.data);
    else failed.set(msg.seq, new PoisonMessageError(`${msg.subject}#${msg.seq}: ${r.reason}`));
  }
  return { records, failed };
}
