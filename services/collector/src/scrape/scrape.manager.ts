import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectClock, InjectLogger, type Clock, type Logger } from '@arcwatch/runtime';
import type { ScrapeJob, ScrapeSettings } from '../config/scrape-config.schema';
import { SCRAPE_SETTINGS } from '../config/scrape-config.loader';
import { BatchPublisher } from '../ingest/batch.publisher';
import { CollectorMetrics } from '../metrics';
import { compileRules } from '../relabel/relabel';
import { FileSdWatcher } from './file-sd';
import type { ScrapeOptions } from './scrape-batch';
import { ScrapeLoop, type TargetStatus } from './scrape-loop';
import { TargetBuilder, type TargetGroup } from './target';

interface JobRuntime {
  job: ScrapeJob;
  builder: TargetBuilder;
  options: ScrapeOptions;
  staticGroups: TargetGroup[];
  fileGroups: TargetGroup[][];
  watchers: FileSdWatcher[];
  loops: Map<string, ScrapeLoop>;
  /** Set while the job has more targets than its target_limit: every scrape of it fails. */
  forcedError: string | undefined;
}

/**
 * Runs the scrape jobs: builds each job's targets from its static and file-discovered groups,
 * starts a loop per new target and stops (with staleness markers) the loops of targets that
 * went away when a file_sd file changes.
 */
@Injectable()
export class ScrapeManager implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly jobs = new Map<string, JobRuntime>();

  constructor(
    @Inject(SCRAPE_SETTINGS) private readonly settings: ScrapeSettings,
    @InjectClock() private readonly clock: Clock,
    @InjectLogger() private readonly logger: Logger,
    private readonly publisher: BatchPublisher,
    private readonly metrics: CollectorMetrics,
  ) {}

  onApplicationBootstrap(): void {
    for (const w of this.settings.warnings) this.logger.warn({ config: w }, 'scrape config');
    for (const job of this.settings.jobs) this.startJob(job);
  }

  async onModuleDestroy(): Promise<void> {
    const loops: ScrapeLoop[] = [];
    for (const rt of this.jobs.values()) {
      for (const w of rt.watchers) w.stop();
      loops.push(...rt.loops.values());
    }
    this.jobs.clear();
    // A shutdown is not a disappearance: another replica or the restarted process goes on.
    await Promise.all(loops.map((l) => l.stop(false)));
  }

  targets(): TargetStatus[] {
    return [...this.jobs.values()].flatMap((rt) => [...rt.loops.values()].map((l) => l.status()));
  }

  private startJob(job: ScrapeJob): void {
    const rt: JobRuntime = {
      job,
      builder: new TargetBuilder(job),
      options: {
        honorLabels: job.honorLabels,
        honorTimestamps: job.honorTimestamps,
        sampleLimit: job.sampleLimit,
        seriesLimit: job.seriesLimit,
        metricRules: compileRules(job.metricRelabelConfigs),
        labelLimit: job.labelLimit,
        labelNameLengthLimit: job.labelNameLengthLimit,
        labelValueLengthLimit: job.labelValueLengthLimit,
      },
      staticGroups: job.staticConfigs.map((sc, i) => ({
        targets: sc.targets,
        labels: sc.labels,
        source: `static_configs[${i}]`,
      })),
      fileGroups: [],
      watchers: [],
      loops: new Map(),
      forcedError: undefined,
    };
    this.jobs.set(job.jobName, rt);
    job.fileSdConfigs.forEach((fsd, i) => {
      const watcher = new FileSdWatcher(
        fsd.files,
        fsd.refreshIntervalMs,
        (groups) => {
          rt.fileGroups[i] = groups;
          this.logger.info({ job: job.jobName, files: fsd.files, groups: groups.length }, 'file_sd targets changed');
          void this.sync(rt);
        },
        (p) =>
          this.logger.error(
            { job: job.jobName, file: p.file, error: p.message },
            'file_sd file refused; its last good targets stay',
          ),
      );
      rt.watchers.push(watcher);
      rt.fileGroups[i] = watcher.start();
    });
    void this.sync(rt);
  }

  private async sync(rt: JobRuntime): Promise<void> {
    const { targets, dropped } = rt.builder.build([...rt.staticGroups, ...rt.fileGroups.flat()]);
    const wanted = new Map(targets.map((t) => [t.key, t]));
    const removed: ScrapeLoop[] = [];
    for (const [key, loop] of rt.loops) {
      if (!wanted.has(key)) {
        rt.loops.delete(key);
        removed.push(loop);
      }
    }
    // As Prometheus: past target_limit the targets are kept but every scrape fails (up=0) until it fits again.
    const limit = rt.job.targetLimit;
    rt.forcedError =
      limit > 0 && wanted.size > limit
        ? `target_limit exceeded (number of targets: ${wanted.size}, limit: ${limit})`
        : undefined;
    if (rt.forcedError)
      this.logger.error({ job: rt.job.jobName, targets: wanted.size, limit }, 'target_limit exceeded');
    const deps = {
      cluster: this.settings.cluster,
      publisher: this.publisher,
      metrics: this.metrics,
      clock: this.clock,
      logger: this.logger,
      fetch: { bodySizeLimit: rt.job.bodySizeLimit, http: rt.job.http },
      forcedError: () => rt.forcedError,
    };
    for (const [key, target] of wanted) {
      if (rt.loops.has(key)) continue;
      const loop = new ScrapeLoop(target, rt.job.intervalMs, rt.job.timeoutMs, rt.options, deps);
      rt.loops.set(key, loop);
      loop.start();
    }
    this.metrics.targets.set({ job: rt.job.jobName }, rt.loops.size);
    this.logger.info(
      { job: rt.job.jobName, targets: rt.loops.size, droppedByRelabel: dropped, removed: removed.length },
      'scrape targets',
    );
    await Promise.all(removed.map((l) => l.stop(true)));
  }
}
