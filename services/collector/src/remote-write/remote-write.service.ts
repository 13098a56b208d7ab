import { Inject, Injectable } from '@nestjs/common';
import type { MetricMetadata } from '@arcwatch/contracts';
import type { ScrapeSettings } from '../config/scrape-config.schema';
import { InjectClock, type Clock } from '@arcwatch/runtime';
import { SCRAPE_SETTINGS } from '../config/scrape-config.loader';
import { BatchPublisher, countSamples } from '../ingest/batch.publisher';
import { contentKey, groupIntoBatches, type PushedSeries } from '../ingest/push-batches';
import { decodeWriteRequest } from './remote-write.decoder';
import { METADATA_TYPES } from './remote-write.proto';

/**
 * POST /api/v1/write: Prometheus remote_write 1.0. The batch ids come from the compressed body,
 * so the sender's retries of a failed request (it retries on 5xx) store nothing twice.
 */
@Injectable()
export class RemoteWriteService {
  constructor(
    @Inject(SCRAPE_SETTINGS) private readonly settings: ScrapeSettings,
    @InjectClock() private readonly clock: Clock,
    private readonly publisher: BatchPublisher,
  ) {}

  async write(body: Uint8Array): Promise<{ batches: number; samples: number }> {
    const req = decodeWriteRequest(body);
    const series: PushedSeries[] = req.timeseries.map((ts) => ({
      labels: Object.fromEntries(ts.labels.filter((l) => l.value !== '').map((l) => [l.name, l.value])),
      samples: ts.samples,
    }));
    const metadata: MetricMetadata[] = req.metadata.map((m) => ({
      metric: m.metric_family_name,
      type: METADATA_TYPES[m.type] ?? 'unknown',
      ...(m.help ? { help: m.help } : {}),
      ...(m.unit ? { unit: m.unit } : {}),
    }));
    const batches = groupIntoBatches(series, { source: 'remote_write', cluster: this.settings.cluster, contentKey: contentKey(body), receivedAtMs: this.clock.now(), metadata });
    await Promise.all(batches.map((b) => this.publisher.publish(b)));
    return { batches: batches.length, samples: batches.reduce((n, b) => n + countSamples(b), 0) };
  }
}
