import { Inject, Injectable } from '@nestjs/common';
import type { MetricMetadata } from '@arcwatch/contracts';
import { seriesLimitFor, type ScrapeSettings } from '../config/scrape-config.schema';
import { PushSeriesGuard } from '../ingest/push-guard';
import { CollectorMetrics } from '../metrics';
import { InjectClock, type Clock } from '@arcwatch/runtime';
import { SCRAPE_SETTINGS } from '../config/scrape-config.loader';
import { BatchPublisher, countSamples } from '../ingest/batch.publisher';
import { contentKey, groupIntoBatches, metadataOnlyBatch, type PushedSeries } from '../ingest/push-batches';
import { decodeWriteRequest } from './remote-write.decoder';
import { METADATA_TYPES } from './remote-write.proto';

/**
 * POST /api/v1/write: Prometheus remote_write 1.0. The batch ids come from the compressed body,
 * so the sender's retries of a failed request (it retries on 5xx) store nothing twice.
 */
@Injectable()
export class RemoteWriteService {
  private readonly guard: PushSeriesGuard;

  constructor(
    @Inject(SCRAPE_SETTINGS) private readonly settings: ScrapeSettings,
    @InjectClock() private readonly clock: Clock,
    private readonly publisher: BatchPublisher,
    private readonly metrics: CollectorMetrics,
  ) {
    this.guard = new PushSeriesGuard((job) => seriesLimitFor(settings, job));
  }

  async write(body: Uint8Array): Promise<{ batches: number; samples: number }> {
    const req = decodeWriteRequest(body);
    const series: PushedSeries[] = req.timeseries.map((ts) => ({
      labels: Object.fromEntries(ts.labels.filter((l) => l.value !== '').map((l) => [l.name, l.value])),
      samples: ts.samples,
      ...(ts.exemplars && ts.exemplars.length > 0
        ? {
            exemplars: ts.exemplars.map((e) => ({
              labels: Object.fromEntries(e.labels.map((l) => [l.name, l.value])),
              value: e.value,
              timestampMs: e.timestampMs,
            })),
          }
        : {}),
    }));
    const metadata: MetricMetadata[] = req.metadata.map((m) => ({
      metric: m.metric_family_name,
      type: METADATA_TYPES[m.type] ?? 'unknown',
      ...(m.help ? { help: m.help } : {}),
      ...(m.unit ? { unit: m.unit } : {}),
    }));
    const ctx = {
      source: 'remote_write' as const,
      cluster: this.settings.cluster,
      contentKey: contentKey(body),
      receivedAtMs: this.clock.now(),
      metadata,
    };
    const batches = groupIntoBatches(series, ctx).map((b) => {
      const g = this.guard.apply(b, ctx.receivedAtMs);
      if (g.dropped > 0) this.metrics.seriesDroppedByLimit.inc({ job: b.target.job }, g.dropped);
      return g.batch;
    });
    // Prometheus sends metadata in requests of its own, without samples: one batch carries it.
    if (batches.length === 0 && metadata.length > 0) batches.push(metadataOnlyBatch(ctx));
    await Promise.all(batches.map((b) => this.publisher.publish(b)));
    return { batches: batches.length, samples: batches.reduce((n, b) => n + countSamples(b), 0) };
  }
}
