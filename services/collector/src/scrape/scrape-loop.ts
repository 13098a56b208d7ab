import { createHash } from 'node:crypto';
import type { Clock, Logger, TimerHandle } from '@arcwatch/runtime';
import { CollectorError } from '../errors';
import type { BatchPublisher } from '../ingest/batch.publisher';
import { newLabelCaches, parseBody } from '../ingest/exposition';
import { MetadataThrottle } from '../ingest/metadata-throttle';
import type { CollectorMetrics } from '../metrics';
import {
  buildEndOfTargetBatch,
  buildScrapeBatch,
  EMPTY_STATE,
  type ScrapeOptions,
  type ScrapeOutcome,
  type ScrapeReport,
  type TargetScrapeState,
} from './scrape-batch';
import { fetchExposition, type FetchOptions } from './scrape.client';
import type { ScrapeTarget } from './target';

const LABEL_CACHE_SLACK = 1_000;

export interface ScrapeLoopDeps {
  cluster: string;
  publisher: BatchPublisher;
  metrics: CollectorMetrics;
  clock: Clock;
  logger: Logger;
  /** TLS, credentials and body size limit of the job. */
  fetch?: FetchOptions;
  /** A reason every scrape of the job fails without asking the target (target_limit exceeded). */
  forcedError?: () => string | undefined;
}

export interface TargetStatus {
  target: ScrapeTarget;
  lastScrapeMs: number | undefined;
  lastReport: ScrapeReport | undefined;
}

/**
 * The timer of one target. Scrapes run at a fixed per-target offset within the interval (a hash
 * of the target, as in Prometheus), so targets spread out and a target's scrape times are
 * regular. Scrapes never overlap: a slow one delays the next slot rather than stacking up.
 */
export class ScrapeLoop {
  private state: TargetScrapeState = EMPTY_STATE;
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastScrapeMs: number | undefined;
  private lastReport: ScrapeReport | undefined;
  private readonly metadata = new MetadataThrottle();
  /**
   * The target's label objects by label text, kept across its scrapes: a label text seen before
   * is not parsed again (on the fleet scrape, about half the parse).
   */
  private labelCaches = newLabelCaches();

  constructor(
    readonly target: ScrapeTarget,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly options: ScrapeOptions,
    private readonly deps: ScrapeLoopDeps,
  ) {}

  start(): void {
    this.schedule();
  }

  /** Label texts kept for the target's next scrape. */
  labelCacheSize(): number {
    return this.labelCaches.prometheus.size + this.labelCaches.openmetrics.size;
  }

  /**
   * A target whose label texts change from scrape to scrape (a label carrying a request id, a
   * timestamp) would grow the caches up to their own limit: past twice the last scrape's samples
   * and a thousand more, they start again empty.
   */
  private boundLabelCaches(samples: number): void {
    if (this.labelCacheSize() > 2 * samples + LABEL_CACHE_SLACK) this.labelCaches = newLabelCaches();
  }

  status(): TargetStatus {
    return { target: this.target, lastScrapeMs: this.lastScrapeMs, lastReport: this.lastReport };
  }

  private offsetMs(): number {
    const h = createHash('sha256').update(this.target.key).digest();
    return h.readUInt32BE(0) % this.intervalMs;
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    const offset = this.offsetMs();
    let next = Math.floor((now - offset) / this.intervalMs) * this.intervalMs + offset;
    if (next <= now) next += this.intervalMs;
    if (this.lastScrapeMs !== undefined && next <= this.lastScrapeMs) next += this.intervalMs;
    this.timer = this.deps.clock.setTimeout(() => {
      this.running = this.scrapeOnce(next)
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, next - now);
  }

  /** One scrape at the slot `startMs`: fetch, parse, build the batch, publish it. */
  async scrapeOnce(startMs: number): Promise<ScrapeReport> {
    const { metrics, logger } = this.deps;
    const job = this.target.jobName;
    const t0 = performance.now();
    let outcome: ScrapeOutcome;
    try {
      const forced = this.deps.forcedError?.();
      if (forced !== undefined) throw new Error(forced);
      const fetched = await fetchExposition(this.target.url, this.timeoutMs, this.deps.fetch);
      const parsed = parseBody(fetched.body, fetched.contentType, this.labelCaches);
      this.boundLabelCaches(parsed.samples.length);
      if (parsed.errors.length > 0) {
        metrics.parseErrors.inc({ source: 'scrape' }, parsed.errors.length);
        logger.warn(
          { job, instance: this.target.instance, errors: parsed.errors.slice(0, 5), count: parsed.errors.length },
          'exposition lines refused; the rest is kept',
        );
      }
      const metadata = this.metadata.take(this.target.key, parsed.metadata, startMs);
      outcome = { ok: true, samples: parsed.samples, ...(metadata ? { metadata } : {}) };
    } catch (err) {
      outcome = { ok: false, error: (err as Error).message };
    }
    const durationMs = performance.now() - t0;
    const result = buildScrapeBatch({
      cluster: this.deps.cluster,
      target: this.target,
      options: this.options,
      startMs,
      durationMs,
      outcome,
      previous: this.state,
    });
    // a failed scrape carries no metadata: what was taken for it goes with the next one
    if (outcome.ok && outcome.metadata && !result.batch.metadata) this.metadata.forget(this.target.key);
    this.state = result.state;
    this.lastScrapeMs = startMs;
    this.lastReport = result.report;
    metrics.scrapeDuration.observe({ job }, durationMs / 1000);
    metrics.scrapes.inc({ job, result: result.report.up ? 'ok' : 'error' });
    if (result.report.seriesDroppedByLimit > 0)
      metrics.seriesDroppedByLimit.inc({ job }, result.report.seriesDroppedByLimit);
    if (!result.report.up)
      logger.warn(
        { job, instance: this.target.instance, url: this.target.url, error: result.report.error },
        'scrape failed',
      );
    try {
      await this.deps.publisher.publish(result.batch);
    } catch (err) {
      if (result.batch.metadata) this.metadata.forget(this.target.key);
      const code = err instanceof CollectorError ? err.code : 'PUBLISH_FAILED';
      logger.error(
        { job, instance: this.target.instance, batchId: result.batch.batchId, code, err: (err as Error).message },
        'scrape batch not published',
      );
    }
    return result.report;
  }

  /** Stops the timer, waits for a scrape in flight, and marks every series of the target stale. */
  async stop(markStale: boolean): Promise<void> {
    this.stopped = true;
    this.deps.clock.clearTimeout(this.timer);
    await this.running;
    if (!markStale) return;
    const batch = buildEndOfTargetBatch(this.deps.cluster, this.target, this.state, this.deps.clock.now());
    this.state = EMPTY_STATE;
    if (!batch) return;
    try {
      await this.deps.publisher.publish(batch);
    } catch (err) {
      this.deps.logger.error(
        { job: this.target.jobName, instance: this.target.instance, err: (err as Error).message },
        'end-of-target staleness not published',
      );
    }
  }
}
