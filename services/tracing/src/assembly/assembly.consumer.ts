import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EventBus, PoisonMessageError, RetryableError, parseOrPoison, type ConsumerHandle } from '@arcwatch/messaging';
import { EVENT_TYPES, SUBJECTS, requestEventV1Schema } from '@arcwatch/contracts';
import { AssemblyService } from './assembly.service';

export const ASSEMBLY_DURABLE = 'tracing-assembly';

/**
 * Lifecycle events from JetStream into the assembly state. The message is acked only after
 * its row is committed, so a SIGKILL at any point means a redelivery, and a redelivered event
 * is a no-op (its id is already stored).
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
    this.handle = await this.bus.consume({
      stream: 'requests',
      durable: ASSEMBLY_DURABLE,
      filterSubject: SUBJECTS.requestEventsAll,
      batch: 100,
      maxAckPending: 2_000,
      handler: async (msg) => {
        const event = parseOrPoison(msg, EVENT_TYPES.requestEvent, requestEventV1Schema);
        try {
          await this.assembly.record(event.data);
        } catch (err) {
          if (err instanceof PoisonMessageError) throw err;
          throw new RetryableError(`storing ${msg.subject}#${msg.seq}: ${(err as Error).message}`, undefined, { cause: err });
        }
      },
    });
    this.logger.log(`consuming ${SUBJECTS.requestEventsAll} as ${ASSEMBLY_DURABLE}`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.handle?.stop();
  }
}
