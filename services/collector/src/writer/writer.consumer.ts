import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SUBJECTS } from '@arcwatch/contracts';
import { EventBus, type ConsumerHandle } from '@arcwatch/messaging';
import { COLLECTOR_CONFIG, type CollectorConfig } from '../config';
import { WriterService } from './writer.service';

export const WRITER_DURABLE = 'collector-writer';

/** The durable JetStream consumer in front of the writer; replicas share it. */
@Injectable()
export class WriterConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private handle: ConsumerHandle | undefined;

  constructor(
    private readonly bus: EventBus,
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    private readonly writer: WriterService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // One group = one transaction; a group closes at COLLECTOR_WRITER_BATCH messages or 50 ms
    // after its first one, so a quiet stream is still written within a scrape's blink.
    this.handle = await this.bus.consumeBatch({
      stream: 'metrics',
      durable: WRITER_DURABLE,
      filterSubject: SUBJECTS.metricsSamplesAll,
      maxDeliver: 10,
      ackWaitMs: 30_000,
      maxAckPending: Math.max(1000, 2 * this.config.writerBatch),
      maxBatch: this.config.writerBatch,
      maxWaitMs: 50,
      handler: (msgs) => this.writer.handleGroup(msgs),
    });
  }

  get running(): boolean {
    return this.handle !== undefined;
  }

  async onModuleDestroy(): Promise<void> {
    await this.handle?.stop();
    this.handle = undefined;
  }
}
