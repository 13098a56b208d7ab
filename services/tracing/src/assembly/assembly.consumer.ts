import { OutboxRelay } from '@arcwatch/outbox';
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
  REQUEST_EVENT_BATCH_MESSAGE_MAX,
  REQUEST_EVENT_BATCH_V1,
  SUBJECTS,
  fastRequestEventV1,
  formatZodError,
  parseCloudEvent,
  requestEventBatchV1Schema,
  requestEventV1Schema,
  type RequestEventV1,
} from '@arcwatch/contracts';
import { z } from 'zod';
import { AssemblyBacklog } from './assembly-backlog';
import { ASSEMBLY_DURABLE, AssemblyService, type StoredEvent } from './assembly.service';

export { ASSEMBLY_DURABLE } from './assembly.service';

/**
 * Lifecycle events from JetStream into the assembly state, a group at a time: one transaction
 * stores the group and assembles the requests it completed, and the messages are acked only
 * after it committed. A SIGKILL at any point means the group is redelivered, and a redelivered
 * event is a no-op (its id is already stored, or its request already finished). A malformed
 * message is dead-lettered on its own; the rest of its group is committed. A message is one
 * event (io.arcwatch.requests.event.v1) or several (io.arcwatch.requests.event-batch.v1).
 */
@Injectable()
export class AssemblyConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AssemblyConsumer.name);
  private handle: ConsumerHandle | undefined;

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    private readonly assembly: AssemblyService,
    private readonly backlog: AssemblyBacklog,
    private readonly relay: OutboxRelay,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.handle = await this.bus.consumeBatch({
      stream: 'requests',
      durable: ASSEMBLY_DURABLE,
      filterSubject: SUBJECTS.requestEventsAll,
      // Messages, not events: a batch message carries up to 1,000 events (500 from our ingest),
      // so 100 of them is a group of tens of thousands, committed in transactions of 5,000.
      maxBatch: 100,
      maxWaitMs: 50,
      maxAckPending: 2_000,
      handler: async (msgs) => {
        const { events, failed } = parseEventMessages(msgs);
        try {
          await this.assembly.recordBatch(events);
        } catch (err) {
          const first = msgs[0];
          throw new RetryableError(
            `storing ${msgs.length} events from ${first.subject}#${first.seq}: ${(err as Error).message}`,
            undefined,
            { cause: err },
          );
        }
        return { failed };
      },
    });
    this.backlog.attach(this.handle);
    this.logger.log(`consuming ${SUBJECTS.requestEventsAll} as ${ASSEMBLY_DURABLE} in batches`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.handle?.stop();
    // Messages of committed batches still being published go out before the bus is closed.
    await this.relay.settled();
  }
}

const EVENT_MESSAGE_TYPES = [EVENT_TYPES.requestEvent, REQUEST_EVENT_BATCH_V1] as const;

/**
 * The events of a group of messages, in stream order, each with its message's stored-at time.
 * A message that is not a valid event or batch of events is named in `failed` as poison; a batch
 * with one bad event is refused whole, as one message.
 */
export function parseEventMessages(msgs: readonly InboundMessage[]): {
  events: StoredEvent[];
  failed: Map<number, PoisonMessageError>;
} {
  const events: StoredEvent[] = [];
  const failed = new Map<number, PoisonMessageError>();
  for (const msg of msgs) {
    const envelope = parseCloudEvent(msg.data, EVENT_MESSAGE_TYPES, z.unknown());
    if (!envelope.ok) {
      failed.set(msg.seq, new PoisonMessageError(`${msg.subject}#${msg.seq}: ${envelope.reason}`));
      continue;
    }
    const { type, data } = envelope.event;
    const storedAtMs = msg.storedAt.getTime();
    if (type === REQUEST_EVENT_BATCH_V1) {
      const plain = fastBatch(data);
      if (plain) {
        for (const event of plain) events.push({ event, storedAtMs });
        continue;
      }
      const batch = requestEventBatchV1Schema.safeParse(data);
      if (batch.success) for (const event of batch.data.events) events.push({ event, storedAtMs });
      else
        failed.set(
          msg.seq,
          new PoisonMessageError(`${msg.subject}#${msg.seq}: invalid ${type} data: ${formatZodError(batch.error)}`),
        );
    } else {
      const plain = fastRequestEventV1(data);
      if (plain) {
        events.push({ event: plain, storedAtMs });
        continue;
      }
      const single = requestEventV1Schema.safeParse(data);
      if (single.success) events.push({ event: single.data, storedAtMs });
      else
        failed.set(
          msg.seq,
          new PoisonMessageError(`${msg.subject}#${msg.seq}: invalid ${type} data: ${formatZodError(single.error)}`),
        );
    }
  }
  return { events, failed };
}

/**
 * A batch's events without zod when the batch and every event in it are plain (request-event.fast.ts:
 * the same result as the schema); otherwise undefined, and the schema decides and words the error.
 */
function fastBatch(data: unknown): RequestEventV1[] | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const keys = Object.keys(data);
  const list = (data as { events?: unknown }).events;
  if (keys.length !== 1 || !Array.isArray(list) || list.length < 1 || list.length > REQUEST_EVENT_BATCH_MESSAGE_MAX)
    return undefined;
  const out = new Array<RequestEventV1>(list.length);
  for (let i = 0; i < list.length; i++) {
    const e = fastRequestEventV1(list[i]);
    if (e === undefined) return undefined;
    out[i] = e;
  }
  return out;
}
