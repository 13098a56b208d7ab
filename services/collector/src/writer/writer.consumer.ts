import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SUBJECTS } from '@arcwatch/contracts';
import type { ConsumerHandle, EventBus } from '@arcwatch/messaging';
import { EVENT_BUS } from '../core/tokens';
import { WriterService } from './writer.service';

export const WRITER_DURABLE = 'collector-writer';

/** The durable JetStream consumer in front of the writer; replicas share it. */
@Injectable()
export class WriterConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private handle: ConsumerHandle | undefined;

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly writer: WriterService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.handle = await this.bus.consume({
      stream: 'metrics',
      durable: WRITER_DURABLE,
      filterSubject: SUBJECTS.metricsSamplesAll,
      maxDeliver: 10,
      ackWaitMs: 30_000,
      batch: 16,
      handler: (msg) => this.writer.handle(msg),
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
