import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  EventBus,
  PoisonMessageError,
  RetryableError,
  type ConsumerHandle,
  type InboundMessage,
} from '@arcwatch/messaging';
import { z } from 'zod';
import {
  EVENT_TYPES,
  REQUEST_COMPLETED_BATCH_V1,
  SUBJECTS,
  formatZodError,
  parseCloudEvent,
  requestCompletedBatchV1Schema,
  requestCompletedV1Schema,
  type RequestCompletedV1,
} from '@arcwatch/contracts';
import { ALLOCATION_DURABLE, AllocationService } from './allocation.service';

/**
 * Request records (aw.requests.v1.completed.>, one per message or batched) into billing's
 * request intervals, a group at a time: acked only after the group's records are committed. A
 * message that is not a request record, or a batch of them, is dead-lettered on its own; the
 * rest of its group is stored.
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

/**
 * The records of a group, from either form (one request per message, or a batch of them; the
 * CloudEvent type tells). A message that is neither, or whose data does not validate, is failed
 * whole; the others' records are kept.
 */
export function parseRecords(msgs: readonly InboundMessage[]): {
  records: RequestCompletedV1[];
  failed: Map<number, PoisonMessageError>;
} {
  const records: RequestCompletedV1[] = [];
  const failed = new Map<number, PoisonMessageError>();
  for (const msg of msgs) {
    const envelope = parseCloudEvent(msg.data, COMPLETED_TYPES, z.unknown());
    if (!envelope.ok) {
      failed.set(msg.seq, new PoisonMessageError(`${msg.subject}#${msg.seq}: ${envelope.reason}`));
      continue;
    }
    const { type, data } = envelope.event;
    const parsed =
      type === REQUEST_COMPLETED_BATCH_V1
        ? requestCompletedBatchV1Schema.safeParse(data)
        : SINGLE_AS_BATCH.safeParse(data);
    if (parsed.success) records.push(...parsed.data.records);
    else
      failed.set(
        msg.seq,
        new PoisonMessageError(`${msg.subject}#${msg.seq}: invalid ${type} data: ${formatZodError(parsed.error)}`),
      );
  }
  return { records, failed };
}

const COMPLETED_TYPES = [EVENT_TYPES.requestCompleted, REQUEST_COMPLETED_BATCH_V1];
/** The single form read as a batch of one, built once rather than per message. */
const SINGLE_AS_BATCH = requestCompletedV1Schema.transform((r) => ({ records: [r] }));
