import { Inject, Injectable } from '@nestjs/common';
import { InjectClock, InjectLogger, type Clock, type Logger } from '@arcwatch/runtime';
import { countSamples, BatchPublisher } from '../ingest/batch.publisher';
import { parseBody } from '../ingest/exposition';
import { ImportBatchBuilder } from '../ingest/import-batches';
import { contentKey } from '../ingest/push-batches';
import { CollectorMetrics } from '../metrics';
import { SCRAPE_SETTINGS } from '../config/scrape-config.loader';
import type { ScrapeSettings } from '../config/scrape-config.schema';
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
}

/** POST /api/v1/import/prometheus: a text exposition pushed by a client, one batch per target. */
@Injectable()
export class ImportService {
  private readonly batches = new ImportBatchBuilder();

  constructor(
    @Inject(SCRAPE_SETTINGS) private readonly settings: ScrapeSettings,
    @InjectClock() private readonly clock: Clock,
    @InjectLogger() private readonly logger: Logger,
    private readonly publisher: BatchPublisher,
    private readonly metrics: CollectorMetrics,
  ) {}

  async importText(req: ImportRequest): Promise<ImportResult> {
    const receivedAtMs = this.clock.now();
    const parsed = parseBody(req.body, req.contentType, this.batches.labelCaches);
    if (parsed.errors.length > 0) this.metrics.parseErrors.inc({ source: 'import' }, parsed.errors.length);
    // Where every sample carries its own time, the body alone is the fact; otherwise the arrival
    // time (or the client's idempotency key) is part of it.
    const timeless = parsed.samples.some((s) => s.timestampMs === undefined);
    const key = contentKey(req.body, labelsKey(req.extraLabels), req.idempotencyKey ?? (timeless ? String(receivedAtMs) : ''));
    const batches = this.batches.build(parsed.samples, req.extraLabels, { cluster: this.settings.cluster, contentKey: key, receivedAtMs });
    for (const batch of batches) await this.publisher.publish(batch);
    const samples = batches.reduce((n, b) => n + countSamples(b), 0);
    this.logger.debug({ batches: batches.length, samples, errors: parsed.errors.length }, 'import');
    return { batches: batches.length, samples, errors: parsed.errors };
  }
}
