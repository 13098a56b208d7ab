import { Inject, Injectable } from '@nestjs/common';
import {
  cloudEvent,
  EVENT_TYPES,
  packedSampleCount,
  SUBJECTS,
  toMetricsBatchV1,
  toMetricsBatchV2,
  type MetricsBatchV1,
  type MetricsBatchV2,
} from '@arcwatch/contracts';
import { EventBus, type PublishResult } from '@arcwatch/messaging';
import { COLLECTOR_CONFIG, type CollectorConfig } from '../config';
import { CollectorError } from '../errors';
import { CollectorMetrics } from '../metrics';

export const EVENT_SOURCE = '/arcwatch/collector';

export type AnyMetricsBatch = MetricsBatchV1 | MetricsBatchV2;

export function isPacked(batch: AnyMetricsBatch): batch is MetricsBatchV2 {
  return typeof (batch as Partial<MetricsBatchV2>).values === 'string';
}

export function countSamples(batch: AnyMetricsBatch): number {
  return isPacked(batch) ? packedSampleCount(batch) : batch.series.reduce((n, s) => n + s.samples.length, 0);
}

/**
 * Publishes one batch as one CloudEvent on aw.metrics.v1.samples.<cluster>.<node>, in the format
 * COLLECTOR_BATCH_FORMAT names (v2, packed, unless old writers still read the stream). Builders
 * hand over either form: the push path builds v2 directly, scrapes, remote_write and recording
 * rules build v1 (a few series per target and interval) and are converted here. The event id
 * is the batch id in both formats, so a re-publish (a retried push, a restart that repeats a
 * scrape time) is dropped by JetStream and, past its window, by the writer.
 */
@Injectable()
export class BatchPublisher {
  constructor(
    private readonly bus: EventBus,
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    private readonly metrics: CollectorMetrics,
  ) {}

  async publish(batch: AnyMetricsBatch): Promise<PublishResult> {
    const packed = this.config.batchFormat === 'v2';
    const data = packed
      ? isPacked(batch)
        ? batch
        : toMetricsBatchV2(batch)
      : isPacked(batch)
        ? toMetricsBatchV1(batch)
        : batch;
    const event = cloudEvent({
      type: packed ? EVENT_TYPES.metricsBatchV2 : EVENT_TYPES.metricsBatch,
      source: EVENT_SOURCE,
      id: batch.batchId,
      subject: `${batch.target.job}/${batch.target.instance}`,
      time: new Date(batch.scrapedAtMs),
      data,
    });
    const started = performance.now();
    try {
      const result = await this.bus.publish(SUBJECTS.metricsSamples(batch.cluster, batch.node), event);
      this.metrics.publishLatency.observe((performance.now() - started) / 1000);
      this.metrics.publishes.inc({ source: batch.source, result: result.duplicate ? 'duplicate' : 'ok' });
      if (!result.duplicate) this.metrics.samplesIngested.inc({ source: batch.source }, countSamples(batch));
      return result;
    } catch (err) {
      this.metrics.publishes.inc({ source: batch.source, result: 'error' });
      throw new CollectorError('PUBLISH_FAILED', `batch ${batch.batchId}: ${(err as Error).message}`, { cause: err });
    }
  }
}
