import { Inject, Injectable } from '@nestjs/common';
import { cloudEvent, EVENT_TYPES, SUBJECTS, type MetricsBatchV1 } from '@arcwatch/contracts';
import type { EventBus, PublishResult } from '@arcwatch/messaging';
import { CollectorError } from '../errors';
import { CollectorMetrics } from '../observability/collector.metrics';
import { EVENT_BUS } from '../core/tokens';

export const EVENT_SOURCE = '/arcwatch/collector';

export function countSamples(batch: MetricsBatchV1): number {
  return batch.series.reduce((n, s) => n + s.samples.length, 0);
}

/**
 * Publishes one batch as one CloudEvent on aw.metrics.v1.samples.<cluster>.<node>. The event id
 * is the batch id, so a re-publish (a retried push, a restart that repeats a scrape time) is
 * dropped by JetStream and, past its window, by the writer.
 */
@Injectable()
export class BatchPublisher {
  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly metrics: CollectorMetrics,
  ) {}

  async publish(batch: MetricsBatchV1): Promise<PublishResult> {
    const event = cloudEvent({
      type: EVENT_TYPES.metricsBatch,
      source: EVENT_SOURCE,
      id: batch.batchId,
      subject: `${batch.target.job}/${batch.target.instance}`,
      time: new Date(batch.scrapedAtMs),
      data: batch,
    });
    const started = performance.now();
    try {
      const result = await this.bus.publish(SUBJECTS.metricsSamples(batch.cluster, batch.node), event);
      this.metrics.publishLatency.observe({}, (performance.now() - started) / 1000);
      this.metrics.publishes.inc({ source: batch.source, result: result.duplicate ? 'duplicate' : 'ok' });
      if (!result.duplicate) this.metrics.samplesIngested.inc({ source: batch.source }, countSamples(batch));
      return result;
    } catch (err) {
      this.metrics.publishes.inc({ source: batch.source, result: 'error' });
      throw new CollectorError('PUBLISH_FAILED', `batch ${batch.batchId}: ${(err as Error).message}`, { cause: err });
    }
  }
}
