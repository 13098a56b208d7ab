import { Inject, Injectable, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { SampleStore } from '@arcwatch/storage';
import { InjectClock, InjectLogger, type Clock, type Logger, type TimerHandle } from '@arcwatch/runtime';
import { COLLECTOR_CONFIG, type CollectorConfig } from '../config';
import { SAMPLE_STORE } from '../database/sample-store.provider';
import { CollectorMetrics } from '../metrics';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Keeps the sample store in shape where the writer runs: folds head rows older than a few
 * minutes into compressed per-series chunks (with their rollups), gives chunks stored before a
 * rollup resolution existed their rollups, and once an hour creates the coming days'
 * partitions and drops those past retention. Replicas may all run it: compaction takes a lock in
 * the database, so only one compacts at a time and the others find nothing to do.
 */
@Injectable()
export class StorageMaintenanceService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private lastRetentionMs = 0;
  /** Whether every configured rollup resolution is complete (then the backfill is not asked again). */
  private rollupsComplete = false;

  constructor(
    @Inject(SAMPLE_STORE) private readonly store: SampleStore,
    @Inject(COLLECTOR_CONFIG) private readonly config: CollectorConfig,
    @InjectLogger() private readonly logger: Logger,
    @InjectClock() private readonly clock: Clock,
    @Optional() private readonly metrics?: CollectorMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = this.clock.setInterval(() => void this.runOnce(), this.config.compactEveryMs);
  }

  /** Before the connections close: a pass in flight finishes first. */
  async onModuleDestroy(): Promise<void> {
    this.clock.clearInterval(this.timer);
    await this.running;
  }

  /** One maintenance pass; never overlaps itself, never throws (a failed pass is retried next time). */
  runOnce(now = this.clock.now()): Promise<void> {
    if (this.running) return this.running;
    this.running = this.pass(now).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(now: number): Promise<void> {
    try {
      const started = performance.now();
      const r = await this.store.compact(this.config.compactAfterMs, {
        dropBeforeMs: now - this.config.retentionDays * DAY_MS,
      });
      if (r.dropped) this.logger.warn({ dropped: r.dropped }, 'samples older than retention left out of compaction');
      if (r.samples > 0) {
        const ms = performance.now() - started;
        this.metrics?.compactionDuration.observe(ms / 1000);
        this.metrics?.compactedSamples.inc(r.samples);
        this.logger.info({ ...r, ms: Math.round(ms) }, 'head compacted into chunks');
      }
      if (!this.rollupsComplete) {
        const built = await this.store.buildRollups();
        if (built > 0) this.logger.info({ chunks: built }, 'rollups built for chunks stored without them');
        this.rollupsComplete = true;
      }
      if (now - this.lastRetentionMs >= HOUR_MS) {
        const kept = await this.store.applyRetention({ retentionDays: this.config.retentionDays });
        this.lastRetentionMs = now;
        if (kept.droppedPartitions.length > 0 || kept.prunedSeries > 0 || kept.deletedExemplars > 0)
          this.logger.info(kept, 'retention applied');
      }
    } catch (err) {
      this.logger.error({ err }, 'storage maintenance failed; retrying at the next interval');
    }
  }
}
