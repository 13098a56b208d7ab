import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { MetricsBatchV1, Queryable } from '@arcwatch/contracts';
import { PromqlEngine } from '@arcwatch/promql';
import { InjectClock, InjectLogger, type Clock, type Logger } from '@arcwatch/runtime';
import type { ScrapeSettings } from '../config/scrape-config.schema';
import { SCRAPE_SETTINGS } from '../config/scrape-config.loader';
import { SAMPLE_STORE } from '../database/sample-store.provider';
import { BatchPublisher } from '../ingest/batch.publisher';
import { EMPTY_GROUP_STATE, groupBatch, recordRule, type GroupState, type RuleOutcome } from './recording.evaluator';
import type { RuleGroup } from '@arcwatch/rules';
import { GroupOverlayQueryable, GroupScheduler } from './rule-scheduler';

export const RULE_GROUPS = Symbol('RULE_GROUPS');

export interface GroupEvaluation {
  batch: MetricsBatchV1;
  errors: Array<{ record: string; error: string }>;
}

/**
 * Evaluates the recording rules of COLLECTOR_RULES on their groups' intervals and publishes each
 * evaluation as one MetricsBatchV1 on JetStream; the writer stores it like any scrape. Going
 * through JetStream (the collector always has NATS) keeps one path into storage, with the
 * writer's dedup by batch id.
 */
@Injectable()
export class RecordingService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly state = new Map<RuleGroup, GroupState>();
  private readonly schedulers: GroupScheduler[] = [];

  constructor(
    @Inject(RULE_GROUPS) readonly groups: readonly RuleGroup[],
    @Inject(SAMPLE_STORE) private readonly store: Queryable,
    @Inject(SCRAPE_SETTINGS) private readonly settings: ScrapeSettings,
    @InjectClock() private readonly clock: Clock,
    @InjectLogger() private readonly logger: Logger,
    private readonly publisher: BatchPublisher,
  ) {}

  onApplicationBootstrap(): void {
    for (const group of this.groups) {
      if (group.recording.length === 0) continue;
      const scheduler = new GroupScheduler(this.clock, group.intervalMs, (t) => this.tick(group, t));
      scheduler.start();
      this.schedulers.push(scheduler);
    }
    if (this.schedulers.length > 0) this.logger.info({ groups: this.schedulers.length }, 'recording rules scheduled');
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.schedulers.map((s) => s.stop()));
  }

  private async tick(group: RuleGroup, evalTimeMs: number): Promise<void> {
    try {
      const r = await this.evaluate(group, evalTimeMs);
      for (const e of r.errors)
        this.logger.warn(
          { group: group.name, file: group.file, record: e.record },
          `recording rule failed: ${e.error}`,
        );
    } catch (err) {
      this.logger.error({ err, group: group.name, file: group.file }, 'recording rule group evaluation failed');
    }
  }

  /**
   * One evaluation of a group at an interval boundary: rules in order, each seeing what the
   * ones before it recorded, then one batch published. A failing rule is reported and skipped;
   * the group's other rules still record.
   */
  async evaluate(group: RuleGroup, evalTimeMs: number): Promise<GroupEvaluation> {
    const sampleTimeMs = evalTimeMs - group.queryOffsetMs;
    const view = new GroupOverlayQueryable(this.store);
    const engine = new PromqlEngine(view, { timeoutMs: group.intervalMs });
    const outcomes: RuleOutcome[] = [];
    const errors: GroupEvaluation['errors'] = [];
    for (const rule of group.recording) {
      let outcome: RuleOutcome;
      try {
        outcome = recordRule(rule, (await engine.evaluateInstant(rule.ast, sampleTimeMs)).result, group.limit);
      } catch (err) {
        outcome = { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
      if (outcome.ok) for (const s of outcome.samples) view.add(s.labels, sampleTimeMs, s.value);
      else errors.push({ record: rule.record, error: outcome.error });
      outcomes.push(outcome);
    }
    const { batch, state } = groupBatch(
      group,
      this.settings.cluster,
      evalTimeMs,
      sampleTimeMs,
      outcomes,
      this.state.get(group) ?? EMPTY_GROUP_STATE,
    );
    await this.publisher.publish(batch);
    this.state.set(group, state);
    return { batch, errors };
  }
}
