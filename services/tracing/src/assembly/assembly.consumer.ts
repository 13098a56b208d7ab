import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EventBus, RetryableError, parseEach, type ConsumerHandle } from '@arcwatch/messaging';
import { EVENT_TYPES, SUBJECTS, requestEventV1Schema } from '@arcwatch/contracts';
import { ASSEMBLY_DURABLE, AssemblyService } from './assembly.service';

export { ASSEMBLY_DURABLE } from './assembly.service';

/**
 * Lifecycle events from JetStream into the assembly state, a group at a time: one transaction
 * stores the group and assembles the requests it completed, and the messages are acked only
 * after it committed. A SIGKILL at any point means the group is redelivered, and a redelivered
 * event is a no-op (its id is already stored, or its request already finished). A malformed
 * message is dead-lettered on its own; the rest of its group is committed.
 */
@Injectable()
export class AssemblyConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AssemblyConsumer.name);
  private handle: ConsumerHandle | undefined;

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    private readonly assembly: AssemblyService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.handle = await this.bus.consumeBatch({
      stream: 'requests',
      durable: ASSEMBLY_DURABLE,
      filterSubject: SUBJECTS.requestEventsAll,
      maxBatch: 500,
      maxWaitMs: 50,
      maxAckPending: 2_000,
      handler: async (msgs) => {
        const { parsed, failed } = parseEach(msgs, EVENT_TYPES.requestEvent, requestEventV1Schema);
        try {
          await this.assembly.recordBatch(parsed.map((p) => ({ event: p.event.data, storedAtMs: p.msg.storedAt.getTime() })));
        } catch (err) {
          const first = msgs[0];
          throw new RetryableError(`storing ${msgs.length} events from ${first.subject}#${first.seq}: ${(err as Error).message}`, undefined, { cause: err });
        }
        return { failed };
      },
    });
    this.logger.log(`consuming ${SUBJECTS.requestEventsAll} as ${ASSEMBLY_DURABLE} in batches`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.handle?.stop();
  }
}
