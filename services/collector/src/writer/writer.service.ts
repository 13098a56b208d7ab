import { Inject, Injectable } from '@nestjs/common';
import { EVENT_TYPES, metricsBatchV1Schema } from '@arcwatch/contracts';
import { parseOrPoison, type InboundMessage } from '@arcwatch/messaging';
import type { SampleStore } from '@arcwatch/storage';
import type { Logger } from 'pino';
import { CLOCK, LOGGER, SAMPLE_STORE, type Clock } from '../core/tokens';
import { CollectorMetrics } from '../observability/collector.metrics';

/**
 * Projects one metrics batch message into the sample store. The store is idempotent by batch id,
 * so a redelivered or replayed batch changes nothing; the message is acked (by the consumer
 * runner) only after this resolves, i.e. after the commit.
 */
@Injectable()
export class WriterService {
  constructor(
    @Inject(SAMPLE_STORE) private readonly store: SampleStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: CollectorMetrics,
  ) {}

  async handle(msg: InboundMessage): Promise<void> {
    let event;
    try {
      event = parseOrPoison(msg, EVENT_TYPES.metricsBatch, metricsBatchV1Schema);
    } catch (err) {
      this.metrics.writerBatches.inc({ result: 'poison' });
      throw err;
    }
    const started = performance.now();
    try {
      const r = await this.store.appendBatch(event.data);
      this.metrics.writerCommit.observe({}, (performance.now() - started) / 1000);
      this.metrics.writerBatches.inc({ result: r.inserted ? 'stored' : 'duplicate' });
      this.metrics.writerSamples.inc({}, r.samples);
      this.metrics.writerLag.set({}, Math.max(0, this.clock.now() - event.data.scrapedAtMs) / 1000);
      this.logger.debug({ batchId: event.data.batchId, inserted: r.inserted, samples: r.samples, seq: msg.seq }, 'batch stored');
    } catch (err) {
      this.metrics.writerBatches.inc({ result: 'error' });
      throw err;
    }
  }
}
