import { bearerHeaders, clientToken } from '@arcwatch/access';
import { statSync } from 'node:fs';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  activeAlerts,
  loadAlertRuleFiles,
  RuleGroupEvaluator,
  type ActiveAlert,
  type GroupTransition,
  type OutputSample,
  type RuleAlertState,
} from '@arcwatch/alerting';
import {
  cloudEvent,
  deterministicId,
  EVENT_TYPES,
  SUBJECTS,
  toWireValue,
  type MetricsBatchV1,
} from '@arcwatch/contracts';
import { OutboxRelay, type OutboxEntry } from '@arcwatch/outbox';
import { PromqlEngine, selectorsOf } from '@arcwatch/promql';
import type { RuleGroup } from '@arcwatch/rules';
import { InjectClock, type Clock, type TimerHandle } from '@arcwatch/runtime';
import { ANOMALY_CONFIG, type AnomalyConfig } from '../config';
import { AnomalyMetrics } from '../metrics';
import { LiveWindow } from '../window/live-window';
import { PrometheusApiQueryable } from '../window/prometheus-api.queryable';
import { alertOutboxEntry, ANOMALY_SOURCE, generatorUrl } from './alert-events';
import { AlertStateRepository } from './alert-state.repository';
import type { WindowSample } from './metrics-batch.decoder';

const RESEND_MS = 60_000;

interface LoadedGroup {
  key: string;
  group: RuleGroup;
  evaluator: RuleGroupEvaluator;
  /** Rule keys of the group's rules (stable across reloads: file, group, name, occurrence). */
  ruleKeys: string[];
  /** Metric names the group reads; undefined when a selector has no fixed name (any sample may matter). */
  names: Set<string> | undefined;
  interval: TimerHandle | undefined;
  debounce: TimerHandle | undefined;
  running: Promise<void>;
}

function ruleKeys(g: RuleGroup): string[] {
  const seen = new Map<string, number>();
  return g.rules.map((r) => {
    const name = r.kind === 'alerting' ? r.rule.alert : r.rule.record;
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    return `${g.file}::${g.name}::${name}::${n}`;
  });
}

function namesRead(g: RuleGroup): Set<string> | undefined {
  const names = new Set<string>();
  for (const r of g.rules) {
    for (const sel of selectorsOf(r.rule.ast)) {
      const eq = sel.find((m) => m.name === '__name__' && m.type === '=');
      if (!eq) return undefined;
      names.add(eq.value);
    }
  }
  return names;
}

/**
 * Alerting and recording rules over the live window: a group is evaluated shortly after a sample
 * it reads arrives (debounced, so a burst of batches is one evaluation) and on its interval (so
 * `for`, absence and resolution advance without new data). After each evaluation the alert state
 * of its rules and the events of its transitions are committed together, then relayed; rule
 * outputs (ALERTS, ALERTS_FOR_STATE, recorded series) go back out as a metrics batch.
 */
@Injectable()
export class RulesService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RulesService.name);
  readonly window: LiveWindow;
  readonly engine: PromqlEngine;
  private groups: LoadedGroup[] = [];
  private fileStamps = new Map<string, number>();
  private reloadTimer: TimerHandle | undefined;
  private pendingOutput = new Map<string, OutputSample[]>();
  private stopped = false;
  /** What this service sends to the collector and to Alertmanager (AUTH_CLIENT_TOKEN, else the bootstrap token). */
  private readonly authHeaders: Record<string, string>;

  constructor(
    @Inject(ANOMALY_CONFIG) private readonly config: AnomalyConfig,
    @InjectClock() private readonly clock: Clock,
    private readonly repository: AlertStateRepository,
    private readonly relay: OutboxRelay,
    private readonly metrics: AnomalyMetrics,
  ) {
    this.authHeaders = bearerHeaders(clientToken(config));
    this.window = new LiveWindow(
      config.windowMs,
      config.historyUrl ? new PrometheusApiQueryable(config.historyUrl, this.authHeaders) : undefined,
    );
    this.engine = new PromqlEngine(this.window, { lookbackDeltaMs: 5 * 60_000 });
  }

  async onApplicationBootstrap(): Promise<void> {
    const groups = this.loadFiles();
    const saved = await this.repository.loadAll();
    this.install(groups, (key) => saved.get(key));
    if (this.config.reloadCheckMs > 0 && this.config.ruleFiles.length > 0) {
      this.reloadTimer = this.clock.setInterval(() => void this.reloadIfChanged(), this.config.reloadCheckMs);
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.clock.clearInterval(this.reloadTimer);
    for (const g of this.groups) this.unschedule(g);
    await Promise.all(this.groups.map((g) => g.running));
  }

  private loadFiles(): RuleGroup[] {
    for (const f of this.config.ruleFiles) this.fileStamps.set(f, statSync(f).mtimeMs);
    return loadAlertRuleFiles(this.config.ruleFiles, { defaultIntervalMs: this.config.evaluationIntervalMs });
  }

  /** Replaces the groups; alert state moves over by rule key, so a reload loses nothing. */
  private install(groups: RuleGroup[], stateOf: (ruleKey: string) => RuleAlertState | undefined): void {
    for (const g of this.groups) this.unschedule(g);
    this.groups = groups.map((group) => {
      const key = `${group.file}::${group.name}`;
      const ctx = {
        engine: this.engine,
        sink: { append: (xs: OutputSample[]) => this.written(key, xs) },
        externalLabels: this.config.externalLabels,
        externalUrl: this.config.externalUrl,
      };
      const evaluator = new RuleGroupEvaluator(group, ctx);
      const keys = ruleKeys(group);
      keys.forEach((k, i) => {
        const s = stateOf(k);
        if (s && group.rules[i].kind === 'alerting') evaluator.restore(i, s);
      });
      const loaded: LoadedGroup = {
        key,
        group,
        evaluator,
        ruleKeys: keys,
        names: namesRead(group),
        interval: undefined,
        debounce: undefined,
        running: Promise.resolve(),
      };
      loaded.interval = this.clock.setInterval(() => this.evaluateSoon(loaded, 0), group.intervalMs);
      return loaded;
    });
  }

  private unschedule(g: LoadedGroup): void {
    this.clock.clearInterval(g.interval);
    this.clock.clearTimeout(g.debounce);
    g.debounce = undefined;
  }

  private written(key: string, xs: OutputSample[]): void {
    for (const s of xs) this.window.add(s.labels, s.timeMs, s.value);
    const list = this.pendingOutput.get(key) ?? [];
    list.push(...xs);
    this.pendingOutput.set(key, list);
  }

  private async reloadIfChanged(): Promise<void> {
    const changed = this.config.ruleFiles.some((f) => {
      try {
        return statSync(f).mtimeMs !== this.fileStamps.get(f);
      } catch {
        return true;
      }
    });
    if (!changed) return;
    await this.reload();
  }

  /** Loads the rule files again; a file with errors keeps the rules that run now. */
  async reload(): Promise<boolean> {
    let groups: RuleGroup[];
    try {
      groups = this.loadFiles();
    } catch (err) {
      this.logger.error(`rule files not reloaded: ${(err as Error).message}`);
      return false;
    }
    await Promise.all(this.groups.map((g) => g.running));
    const states = new Map<string, RuleAlertState>();
    for (const g of this.groups) g.ruleKeys.forEach((k, i) => states.set(k, g.evaluator.alertStates[i]));
    this.install(groups, (k) => states.get(k));
    this.metrics.inc('rule_reloads');
    return true;
  }

  /** Samples from the live stream: into the window, and the groups that read them are scheduled. */
  ingest(samples: readonly WindowSample[]): void {
    if (samples.length === 0) return;
    const names = new Set<string>();
    for (const s of samples) {
      this.window.add(s.labels, s.t, s.v);
      names.add(s.labels.__name__ ?? '');
    }
    this.metrics.inc('samples_ingested', samples.length);
    this.metrics.setWindowSeries(this.window.size);
    for (const g of this.groups) {
      if (g.names && ![...g.names].some((n) => names.has(n))) continue;
      this.evaluateSoon(g, this.config.debounceMs);
    }
  }

  private evaluateSoon(g: LoadedGroup, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs === 0) {
      void this.evaluate(g);
      return;
    }
    if (g.debounce !== undefined) return;
    g.debounce = this.clock.setTimeout(() => {
      g.debounce = undefined;
      void this.evaluate(g);
    }, delayMs);
  }

  /** Evaluates one group now (serialised per group); resolves when its effects are committed. */
  evaluate(g: LoadedGroup): Promise<void> {
    g.running = g.running
      .then(() => this.evaluateNow(g))
      .catch((err: unknown) => this.logger.error(`group ${g.key}: ${(err as Error).message}`));
    return g.running;
  }

  /** Evaluates every group once (tests and the benchmark drive time this way). */
  async evaluateAll(): Promise<void> {
    await Promise.all(this.groups.map((g) => this.evaluate(g)));
  }

  private async evaluateNow(g: LoadedGroup): Promise<void> {
    if (this.stopped) return;
    const now = this.clock.now();
    this.window.trim(now);
    const before = g.evaluator.alertStates.map((s) => structuredClone(s));
    const started = performance.now();
    const result = await g.evaluator.evaluate(now);
    const output = this.pendingOutput.get(g.key) ?? [];
    this.pendingOutput.delete(g.key);
    this.metrics.observeEvaluation((performance.now() - started) / 1000);
    this.metrics.inc('rule_evaluations');
    this.metrics.inc('rule_evaluation_failures', result.errors.length);
    for (const e of result.errors) this.logger.warn(`rule ${e.rule} in ${g.key}: ${e.message}`);
    const events = result.transitions.filter((t) => t.kind === 'firing' || t.kind === 'resolved');
    const entries: OutboxEntry[] = events.map((t) => this.alertEntry(t));
    if (output.length > 0) entries.push(this.writeBackEntry(g.key, now, output));
    const states = g.ruleKeys.flatMap((ruleKey, i) =>
      g.group.rules[i].kind === 'alerting' ? [{ ruleKey, state: g.evaluator.alertStates[i] }] : [],
    );
    try {
      await this.repository.commit(states, now, entries);
    } catch (err) {
      // Nothing was committed: put the state back so the next evaluation decides the same transitions again.
      before.forEach((s, i) => g.evaluator.restore(i, s));
      throw err;
    }
    this.metrics.inc('alert_transitions', events.length);
    await this.relay.flush().catch((err: unknown) => this.logger.warn(`outbox relay: ${(err as Error).message}`));
    if (this.config.alertmanagerUrl) await this.notifyAlertmanager(g, now, events.length > 0);
  }

  private generatorUrl(expr: string): string {
    return generatorUrl(this.config.externalUrl, expr);
  }

  private alertEntry(t: GroupTransition): OutboxEntry {
    const rule = this.groups.flatMap((g) => g.group.alerting).find((r) => r.alert === t.rule);
    return alertOutboxEntry(t, { kind: 'rule', group: t.group, name: t.rule }, this.generatorUrl(rule?.expr ?? ''));
  }

  private writeBackEntry(groupKey: string, now: number, output: OutputSample[]): OutboxEntry {
    const { writeBackCluster: cluster, writeBackNode: node } = this.config;
    const batchId = deterministicId('anomaly-rule-output', groupKey, now);
    const batch: MetricsBatchV1 = {
      batchId,
      source: 'recording_rule',
      cluster,
      node,
      target: { job: 'anomaly', instance: node },
      scrapedAtMs: now,
      series: output.map((s) => ({ labels: s.labels, samples: [[s.timeMs, toWireValue(s.value)]] })),
    };
    return {
      subject: SUBJECTS.metricsSamples(cluster, node),
      event: cloudEvent({
        id: batchId,
        source: ANOMALY_SOURCE,
        type: EVENT_TYPES.metricsBatch,
        time: new Date(now),
        data: batch,
      }),
    };
  }

  /** Prometheus's notifier: firing alerts every minute and on change, resolved ones while kept. */
  private async notifyAlertmanager(g: LoadedGroup, now: number, changed: boolean): Promise<void> {
    const payload: Array<Record<string, unknown>> = [];
    g.group.rules.forEach((r, i) => {
      if (r.kind !== 'alerting') return;
      for (const a of Object.values(g.evaluator.alertStates[i].alerts)) {
        if (a.state === 'pending') continue;
        if (!changed && a.lastSentAtMs !== null && now - a.lastSentAtMs < RESEND_MS) continue;
        a.lastSentAtMs = now;
        payload.push(this.amAlert(a, r.rule.expr, now, g.group.intervalMs));
      }
    });
    if (payload.length === 0) return;
    const post = () =>
      fetch(`${this.config.alertmanagerUrl!.replace(/\/$/, '')}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.authHeaders },
        body: JSON.stringify(payload),
      });
    try {
      // A kept-alive connection that Alertmanager closes as it is reused fails the request before
      // anything was sent back: try once more, on a new connection. (A resolved alert is otherwise
      // only re-sent a minute later, and a firing one until then looks stale.)
      const res = await post().catch(() => post());
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      this.metrics.inc('alertmanager_posts_failed');
      this.logger.warn(`alertmanager: ${(err as Error).message}`);
    }
  }

  private amAlert(a: ActiveAlert, expr: string, now: number, intervalMs: number): Record<string, unknown> {
    // As Prometheus: a firing alert is valid for 4 resend periods, a resolved one ends when it resolved.
    const endsAt =
      a.state === 'inactive' && a.resolvedAtMs !== null ? a.resolvedAtMs : now + 4 * Math.max(RESEND_MS, intervalMs);
    return {
      labels: a.labels,
      annotations: a.annotations,
      startsAt: new Date(a.firedAtMs ?? a.activeAtMs).toISOString(),
      endsAt: new Date(endsAt).toISOString(),
      generatorURL: this.generatorUrl(expr),
    };
  }

  /** The groups with their rules' state, for /api/v1/rules and /api/v1/alerts. */
  snapshot(): Array<{ group: RuleGroup; evaluator: RuleGroupEvaluator }> {
    return this.groups.map((g) => ({ group: g.group, evaluator: g.evaluator }));
  }

  activeAlerts(): Array<ActiveAlert & { rule: string }> {
    return this.groups.flatMap((g) =>
      g.group.rules.flatMap((r, i) =>
        r.kind === 'alerting'
          ? activeAlerts(g.evaluator.alertStates[i]).map((a) => ({ ...a, rule: r.rule.alert }))
          : [],
      ),
    );
  }
}
