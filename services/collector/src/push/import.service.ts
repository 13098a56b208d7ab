import { Inject, Injectable } from '@nestjs/common';
import { InjectClock, InjectLogger, type Clock, type Logger } from '@arcwatch/runtime';
import { countSamples, BatchPublisher } from '../ingest/batch.publisher';
import { parseBody } from '../ingest/exposition';
import { ImportBatchBuilder } from '../ingest/import-batches';
import { contentKey } from '../ingest/push-batches';
import { CollectorMetrics } from '../metrics';
import { SCRAPE_SETTINGS } from '../config/scrape-config.loader';
import { seriesLimitFor, type ScrapeSettings } from '../config/scrape-config.schema';
import { toMetricsBatchV1, toMetricsBatchV2, type MetricsBatchV2 } from '@arcwatch/contracts';
import { PushSeriesGuard } from '../ingest/push-guard';
import { MetadataThrottle } from '../ingest/metadata-throttle';
import { labelsKey } from '../scrape/target';

export interface ImportRequest {
  body: string;
  contentType: string | undefined;
  /** Labels added to (and overriding) every sample: `extra_label=name=value`. */
  extraLabels: Record<string, string>;
  /** A client-chosen id for the request, making a retry of it a no-op. */
  idempotencyKey: string | undefined;
}

export interface ImportResult {
  batches: number;
  samples: number;
  errors: Array<{ line: number; message: string }>;
  /** New series refused by the per-target cardinality guard (arcwatch.series_limit). */
  seriesDroppedByLimit: number;
}

/** POST /api/v1/import/prometheus: a text exposition pushed by a client, one batch per target. */
@Injectable()
export class ImportService {
  private readonly batches = new ImportBatchBuilder();
  private readonly guard: PushSeriesGuard;
  private readonly metadata = new MetadataThrottle();

  constructor(
    @Inject(SCRAPE_SETTINGS) private readonly settings: ScrapeSettings,
    @InjectClock() private readonly clock: Clock,
    @InjectLogger() private readonly logger: Logger,
    private readonly publisher: BatchPublisher,
    private readonly metrics: CollectorMetrics,
  ) {
    this.guard = new PushSeriesGuard((job) => seriesLimitFor(settings, job));
  }

  /** The guard reads labels: only a target with a limit pays for the conversion to v1 and back. */
  private guarded(b: MetricsBatchV2, nowMs: number): { batch: MetricsBatchV2; dropped: number } {
    if (seriesLimitFor(this.settings, b.target.job) <= 0) return { batch: b, dropped: 0 };
    const r = this.guard.apply(toMetricsBatchV1(b), nowMs);
    if (r.dropped > 0) this.metrics.seriesDroppedByLimit.inc({ job: b.target.job }, r.dropped);
    return r.dropped === 0 ? { batch: b, dropped: 0 } : { batch: toMetricsBatchV2(r.batch), dropped: r.dropped };
  }

  async importText(req: ImportRequest): Promise<ImportResult> {
    const receivedAtMs = this.clock.now();
    const parsed = parseBody(req.body, req.contentType, this.batches.labelCaches);
    if (parsed.errors.length > 0) this.metrics.parseErrors.inc({ source: 'import' }, parsed.errors.length);
    // Where every sample carries its own time, the body alone is the fact; otherwise the arrival
    // time (or the client's idempotency key) is part of it.
    const timeless = parsed.samples.some((s) => s.timestampMs === undefined);
    const key = contentKey(
      req.body,
      labelsKey(req.extraLabels),
      req.idempotencyKey ?? (timeless ? String(receivedAtMs) : ''),
    );
    const built = this.batches.build(parsed.samples, req.extraLabels, {
      cluster: this.settings.cluster,
      contentKey: key,
      receivedAtMs,
    });
    // every target of the push gets the families the body described (metadata is per family, not per series)
    let seriesDroppedByLimit = 0;
    const batches = built.map((b) => {
      const g = this.guarded(b, receivedAtMs);
      seriesDroppedByLimit += g.dropped;
      const target = `${b.target.job}\u0000${b.target.instance}`;
      const metadata = this.metadata.take(target, parsed.metadata, receivedAtMs);
      return metadata ? { ...g.batch, metadata } : g.batch;
    });
    if (seriesDroppedByLimit > 0)
      this.logger.warn({ seriesDroppedByLimit }, 'import: new series over the per-target series limit dropped');
    for (const batch of batches) {
      try {
        await this.publisher.publish(batch);
      } catch (err) {
        if (batch.metadata) this.metadata.forget(`${batch.target.job}\u0000${batch.target.instance}`);
        throw err;
      }
    }
    const samples = batches.reduce((n, b) => n + countSamples(b), 0);
    this.logger.debug({ batches: batches.length, samples, errors: parsed.errors.length }, 'import');
    return { batches: batches.length, samples, errors: parsed.errors, seriesDroppedByLimit };
  }
}
