import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { withTransaction } from '@arcwatch/storage';
import {
  EVENT_TYPES,
  SUBJECTS,
  cloudEvent,
  deterministicId,
  parseIsoTime,
  type MetricsBatchV1,
  type RequestCompletedV1,
} from '@arcwatch/contracts';
import { CLOCK, PG_POOL, type Clock } from '@arcwatch/runtime';
import { TRACING_CONFIG, type TracingConfig } from '../config';
import { enqueueOutbox, type OutboxEntry } from '@arcwatch/outbox';
import {
  CardinalityLimiter,
  MINUTE_MS,
  addRecordInPlace,
  copyStats,
  counterIncrements,
  minuteExemplars,
  emptyStats,
  errorReason,
  minuteSeries,
  seriesId,
  summedIncrements,
  windowStart,
  type StatsKey,
  type WindowStats,
} from './request-stats';
import { StatsRepository } from './stats.repository';

/**
 * Per-minute statistics: folded in inside the assembly transaction (so a request counts once,
 * exactly when it is projected), published as a MetricsBatchV1 once the minute is closed.
 */
@Injectable()
export class StatsService {
  private readonly logger = new Logger(StatsService.name);
  private readonly repo: StatsRepository;
  private limiter: CardinalityLimiter;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(TRACING_CONFIG) private readonly config: TracingConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.repo = new StatsRepository(config.dbSchema);
    this.limiter = new CardinalityLimiter(config.statsMaxLabelSets);
  }

  async loadLimits(): Promise<void> {
    const limiter = new CardinalityLimiter(this.config.statsMaxLabelSets);
    for (const k of await this.repo.knownKeys(this.pool))
      limiter.key({ model: k.model, modelVersion: k.modelVersion, tenant: k.tenant });
    this.limiter = limiter;
  }

  /** Adds newly finished requests to their minutes and counters; runs in the caller's transaction. */
  async apply(db: PoolClient, records: RequestCompletedV1[]): Promise<void> {
    if (records.length === 0) return;
    const id = (minuteMs: number, k: StatsKey) => JSON.stringify([minuteMs, k.model, k.modelVersion, k.tenant]);
    const keyed = records.map((r) => {
      const endedAtMs = parseIsoTime(r.endedAt);
      const minuteMs = windowStart(endedAtMs, MINUTE_MS);
      const key = this.limiter.key(r);
      return { r, endedAtMs, minuteMs, key, id: id(minuteMs, key), reason: this.limiter.reason(errorReason(r)) };
    });
    const unique = new Map(keyed.map((x) => [x.id, { minuteMs: x.minuteMs, key: x.key }]));
    await this.repo.ensureMinutes(
      db,
      [...unique.values()].map((u) => emptyStats(u.key, u.minuteMs)),
    );
    const locked = await this.repo.lockMinutes(db, [...unique.values()]);
    const current = new Map(locked.map(({ stats: w }) => [id(w.startMs, w.key), w]));
    const published = new Set(locked.filter((l) => l.published).map(({ stats: w }) => id(w.startMs, w.key)));
    // Windows of this call only, so they are added to in place (one copy per window, not per request).
    const updated = new Map<string, WindowStats>();
    // What this call adds to minutes already published, for the running counters (below).
    const deltas = new Map<string, WindowStats>();
    for (const x of keyed) {
      const k = x.id;
      let now = updated.get(k);
      if (now === undefined) {
        const stored = current.get(k);
        updated.set(k, (now = stored ? copyStats(stored) : emptyStats(x.key, x.minuteMs)));
      }
      addRecordInPlace(now, x.r, x.reason, x.endedAtMs);
      if (!published.has(k)) continue;
      let delta = deltas.get(k);
      if (delta === undefined) deltas.set(k, (delta = emptyStats(x.key, x.minuteMs)));
      addRecordInPlace(delta, x.r, x.reason, x.endedAtMs);
    }
    for (const [k, w] of updated) current.set(k, w);
    await this.repo.saveMinutes(db, [...current.values()]);
    // A minute's requests reach the running counters when the minute is published, in minute order,
    // so each published sample is the total up to the end of its minute (history sent all at once
    // still rises minute by minute). Requests that arrive for a minute already published are added
    // now: the next minute published of those series carries them.
    await this.repo.addToCounters(db, summedIncrements([...deltas.values()]));
  }

  /**
   * Publishes (through the outbox) every closed minute: one batch per minute, id derived from
   * the minute and its label sets, so a retried publication is dropped as a duplicate.
   */
  async publishClosedMinutes(): Promise<number> {
    const closedBefore = windowStart(this.clock.now() - this.config.statsLatenessMs, MINUTE_MS) - MINUTE_MS + 1;
    return withTransaction(this.pool, async (db) => {
      const minutes = await this.repo.claimClosedMinutes(db, closedBefore, 500);
      if (minutes.length === 0) return 0;
      const byMinute = new Map<number, WindowStats[]>();
      for (const w of minutes) (byMinute.get(w.startMs) ?? byMinute.set(w.startMs, []).get(w.startMs))?.push(w);
      const rows: OutboxEntry[] = [];
      // Claimed oldest first, so the minutes are counted in order.
      for (const [minuteMs, windows] of byMinute) {
        await this.repo.addToCounters(db, summedIncrements(windows));
        const totals = await this.repo.counters(
          db,
          windows.flatMap(counterIncrements).map((i) => seriesId(i.labels)),
        );
        const batchId = deterministicId(
          'tracing-minute',
          minuteMs,
          ...windows.map((w) => `${w.key.model}/${w.key.modelVersion}/${w.key.tenant}`).sort(),
        );
        const series: MetricsBatchV1['series'] = [];
        const exemplars: NonNullable<MetricsBatchV1['exemplars']> = [];
        for (const w of windows) {
          const own = minuteSeries(w, totals);
          exemplars.push(...minuteExemplars(w, own, series.length));
          series.push(...own);
        }
        const batch: MetricsBatchV1 = {
          batchId,
          source: 'tracing',
          cluster: 'tracing',
          node: this.config.statsInstance,
          target: { job: 'arcwatch-tracing', instance: this.config.statsInstance },
          scrapedAtMs: minuteMs + MINUTE_MS,
          series,
          ...(exemplars.length > 0 ? { exemplars } : {}),
        };
        const subject = SUBJECTS.metricsSamples('tracing', this.config.statsInstance);
        rows.push({
          subject,
          event: cloudEvent({
            id: batchId,
            type: EVENT_TYPES.metricsBatch,
            source: 'arcwatch/tracing',
            subject,
            time: new Date(minuteMs + MINUTE_MS),
            data: batch,
          }),
        });
      }
      await enqueueOutbox(db, this.config.dbSchema, rows);
      await this.repo.markPublished(db, minutes);
      this.logger.debug(`published ${byMinute.size} minute(s) of request statistics`);
      return byMinute.size;
    });
  }

  minutes(fromMs: number, toMs: number, filter: { model?: string; tenant?: string }): Promise<WindowStats[]> {
    return this.repo.minutes(this.pool, fromMs, toMs, filter);
  }
}
