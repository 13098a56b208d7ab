import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SUBJECTS } from '@arcwatch/contracts';
import { EventBus, type ConsumerHandle } from '@arcwatch/messaging';
import { AnomalyMetrics } from '../metrics';
import { decodeMetricsMessages } from './metrics-batch.decoder';
import { RulesService } from './rules.service';

export const RULES_DURABLE = 'anomaly-rules';

/**
 * The live metrics stream into the rule window. New messages only: the window is memory, and
 * what came before the service started is read from history when a rule needs it. A malformed
 * batch is dead-lettered on its own; the rest of its group is taken.
 */
@Injectable()
export class MetricsStreamConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MetricsStreamConsumer.name);
  private handle: ConsumerHandle | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly rules: RulesService,
    private readonly metrics: AnomalyMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.handle = await this.bus.consumeBatch({
      stream: 'metrics',
      durable: RULES_DURABLE,
      filterSubject: SUBJECTS.metricsSamplesAll,
      deliverPolicy: 'new',
      maxBatch: 500,
      maxWaitMs: 5,
      maxAckPending: 5_000,
      handler: async (msgs) => {
        const { samples, failed } = decodeMetricsMessages(msgs);
        this.metrics.inc('batches_rejected', failed.size);
        this.rules.ingest(samples);
        return { failed };
      },
    });
    this.logger.log(`consuming ${SUBJECTS.metricsSamplesAll} as ${RULES_DURABLE}`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.handle?.stop();
    this.handle = undefined;
  }
}
