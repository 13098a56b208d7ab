import { Inject, Injectable } from '@nestjs/common';
import { EVENT_TYPES, toMetricsBatchV2, type MetricsBatchV2 } from '@arcwatch/contracts';
import { PoisonMessageError, type BatchOutcome, type InboundMessage } from '@arcwatch/messaging';
import { StorageError, type AppendManyResult, type SampleStore } from '@arcwatch/storage';
import { InjectClock, InjectLogger, type Clock, type Logger } from '@arcwatch/runtime';
import { SAMPLE_STORE } from '../database/sample-store.provider';
import { CollectorMetrics } from '../metrics';
import { decodeGroup, type DecodedGroup } from './batch-decoder';

/**
 * Projects a group of metrics batch messages into the sample store with one transaction
 * (`appendPacked`: one INSERT for the whole group). v1 batches are converted to the packed form
 * first, so a group that mixes both is still one transaction. The store is idempotent by batch id, so a
 * redelivered or replayed batch changes nothing; the messages are acked by the consumer runner
 * only after this resolves, i.e. after the commit. A message that cannot be stored is named in
 * `failed` and dead-lettered alone; the rest of its group is committed.
 */
@Injectable()
export class WriterService {
  constructor(
    @Inject(SAMPLE_STORE) private readonly store: SampleStore,
    @InjectClock() private readonly clock: Clock,
    @InjectLogger() private readonly logger: Logger,
    private readonly metrics: CollectorMetrics,
  ) {}

  async handleGroup(msgs: readonly InboundMessage[]): Promise<BatchOutcome> {
    const { parsed, failed } = decodeGroup(msgs);
    if (failed.size > 0) this.metrics.writerBatches.inc({ result: 'poison' }, failed.size);
    if (parsed.length === 0) return { failed };
    const started = performance.now();
    const packed = parsed.map((p) => ({ msg: p.msg, batch: packedOf(p) }));
    try {
      const r = await this.store.appendPacked(packed.map((p) => p.batch));
      this.record(
        r,
        packed.map((p) => p.batch),
        started,
      );
    } catch (err) {
      // The store refuses a batch it cannot lay out (no __name__, a timestamp it cannot keep), or
      // one whose new series would pass the store-wide series limit, before it writes anything:
      // find which ones, one by one, and keep the others.
      if (!isRefusal(err)) {
        this.metrics.writerBatches.inc({ result: 'error' }, parsed.length);
        throw err;
      }
      await this.storeOneByOne(packed, failed);
    }
    return { failed };
  }

  private async storeOneByOne(
    parsed: ReadonlyArray<{ msg: InboundMessage; batch: MetricsBatchV2 }>,
    failed: Map<number, unknown>,
  ): Promise<void> {
    for (const { msg, batch } of parsed) {
      const started = performance.now();
      try {
        const r = await this.store.appendPacked([batch]);
        this.record(r, [batch], started);
      } catch (err) {
        if (!isRefusal(err)) {
          this.metrics.writerBatches.inc({ result: 'error' });
          throw err;
        }
        // Over the series limit it stays over until the limit is raised or retention prunes the
        // catalog: dead-lettered with the reason, to be replayed from there.
        const limit = err.code === 'SERIES_LIMIT_EXCEEDED';
        this.metrics.writerBatches.inc({ result: limit ? 'series_limit' : 'poison' });
        if (limit)
          this.logger.warn(
            { batchId: batch.batchId, job: batch.target.job, instance: batch.target.instance, err: err.message },
            'batch refused: store-wide series limit',
          );
        failed.set(
          msg.seq,
          new PoisonMessageError(`${msg.subject}#${msg.seq}: ${limit ? `${err.code}: ` : ''}${err.message}`),
        );
      }
    }
  }

  private record(r: AppendManyResult, batches: readonly MetricsBatchV2[], started: number): void {
    this.metrics.writerCommit.observe((performance.now() - started) / 1000);
    if (r.inserted > 0) this.metrics.writerBatches.inc({ result: 'stored' }, r.inserted);
    if (r.duplicates > 0) this.metrics.writerBatches.inc({ result: 'duplicate' }, r.duplicates);
    this.metrics.writerSamples.inc(r.samples);
    const now = this.clock.now();
    let newest = 0;
    for (const b of batches) {
      if (b.scrapedAtMs > newest) newest = b.scrapedAtMs;
      this.metrics.writerFreshness.observe(Math.max(0, now - (b.timestampMs ?? b.scrapedAtMs)) / 1000);
    }
    this.metrics.writerLag.set(Math.max(0, now - newest) / 1000);
    this.logger.debug({ batches: batches.length, inserted: r.inserted, samples: r.samples }, 'batches stored');
  }
}

function isRefusal(err: unknown): err is StorageError {
  return err instanceof StorageError && (err.code === 'INVALID_BATCH' || err.code === 'SERIES_LIMIT_EXCEEDED');
}

function packedOf(p: DecodedGroup['parsed'][number]): MetricsBatchV2 {
  return p.type === EVENT_TYPES.metricsBatchV2 ? p.batch : toMetricsBatchV2(p.batch);
}
