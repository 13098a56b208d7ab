/**
 * Evaluates one rule group at a time t, as Prometheus's rules.Group.Eval does: rules in file
 * order, each one's output appended before the next runs (so a rule may read an earlier rule's
 * result at the same t), staleness markers for series a rule stopped producing, ALERTS /
 * ALERTS_FOR_STATE for alerting rules, and the alert state machine (alert-state.decider.ts).
 * Storage is injected: the unit-test runner appends to memory, the service to its live window.
 */
import { STALE_NAN } from '@arcwatch/contracts';
import type { PromqlEngine } from '@arcwatch/promql';
import type { AlertingRule, RecordingRule, RuleGroup } from '@arcwatch/rules';
import { expandAlertTemplate } from '../template/alert-template';
import { QuerySample, type TemplateQuery } from '../template/template-functions';
import {
  decideAlerts,
  emptyRuleState,
  type AlertCandidate,
  type AlertTransition,
  type RuleAlertState,
  type SeriesSample,
} from './alert-state.decider';
import { labelsKey } from './labels';

export interface OutputSample {
  labels: Record<string, string>;
  timeMs: number;
  value: number;
}

export interface RuleSink {
  append(samples: OutputSample[]): void | Promise<void>;
}

export interface RuleEvalContext {
  engine: PromqlEngine;
  sink: RuleSink;
  externalLabels?: Record<string, string>;
  externalUrl?: string;
}

export interface RuleError {
  rule: string;
  message: string;
}

export interface GroupTransition extends AlertTransition {
  group: string;
  rule: string;
  file: string;
}

export interface GroupEvalResult {
  errors: RuleError[];
  transitions: GroupTransition[];
  samples: number;
}

export interface RuleHealth {
  health: 'ok' | 'err' | 'unknown';
  lastError: string;
  lastEvaluationMs: number | null;
  evaluationDurationMs: number;
}

type QueryRows = Array<{ labels: Record<string, string>; value: number }>;

export class RuleEvalError extends Error {
  readonly code = 'RULE_EVAL_FAILED';
}

async function queryVector(
  engine: PromqlEngine,
  rule: RecordingRule | AlertingRule,
  timeMs: number,
): Promise<QueryRows> {
  const { result } = await engine.evaluateInstant(rule.ast, timeMs);
  if (result.type === 'vector') return result.samples.map((s) => ({ labels: s.labels, value: s.value }));
  if (result.type === 'scalar') return [{ labels: {}, value: result.value }];
  throw new RuleEvalError('rule result is not a vector or scalar');
}

/** Template `query`: a vector (or a scalar as one unlabelled sample, a string as `__value__`). */
export function templateQuery(engine: PromqlEngine, timeMs: number): TemplateQuery {
  return async (expr) => {
    const { result } = await engine.evaluateInstant(expr, timeMs);
    if (result.type === 'vector') return result.samples.map((s) => new QuerySample(s.labels, s.value));
    if (result.type === 'scalar') return [new QuerySample({}, result.value)];
    if (result.type === 'string') return [new QuerySample({ __value__: result.value }, 0)];
    throw new Error('query result is not a vector or scalar');
  };
}

export function ruleName(
  r: { kind: 'recording'; rule: RecordingRule } | { kind: 'alerting'; rule: AlertingRule },
): string {
  return r.kind === 'recording' ? r.rule.record : r.rule.alert;
}

export class RuleGroupEvaluator {
  /** Alert state per rule index. */
  readonly alertStates: RuleAlertState[];
  readonly health: RuleHealth[];
  private previousSeries: Map<string, Record<string, string>>[];

  constructor(
    public group: RuleGroup,
    private readonly ctx: RuleEvalContext,
  ) {
    this.alertStates = group.rules.map(() => emptyRuleState());
    this.health = group.rules.map(() => ({
      health: 'unknown',
      lastError: '',
      lastEvaluationMs: null,
      evaluationDurationMs: 0,
    }));
    this.previousSeries = group.rules.map(() => new Map());
  }

  /** Puts restored alert state (after a restart) in place for the rule at `index`. */
  restore(index: number, state: RuleAlertState): void {
    this.alertStates[index] = state;
  }

  async evaluate(timeMs: number): Promise<GroupEvalResult> {
    const errors: RuleError[] = [];
    const transitions: GroupTransition[] = [];
    let samples = 0;
    const t = timeMs - this.group.queryOffsetMs;
    for (let i = 0; i < this.group.rules.length; i++) {
      const entry = this.group.rules[i];
      const name = ruleName(entry);
      const started = Date.now();
      let out: OutputSample[];
      try {
        if (entry.kind === 'recording') {
          out = this.record(entry.rule, await queryVector(this.ctx.engine, entry.rule, t), t);
        } else {
          const rows = await queryVector(this.ctx.engine, entry.rule, t);
          const { series, moves } = await this.alert(i, entry.rule, rows, timeMs);
          for (const m of moves) transitions.push({ ...m, group: this.group.name, rule: name, file: this.group.file });
          out = series.map((s) => ({ labels: s.labels, timeMs: t, value: s.value }));
        }
        if (this.group.limit > 0 && entry.kind === 'recording' && out.length > this.group.limit) {
          throw new RuleEvalError(`exceeded limit of ${this.group.limit} with ${out.length} series`);
        }
      } catch (e) {
        const message = (e as Error).message;
        errors.push({ rule: name, message });
        this.health[i] = {
          health: 'err',
          lastError: message,
          lastEvaluationMs: timeMs,
          evaluationDurationMs: Date.now() - started,
        };
        continue;
      }
      const now = new Map<string, Record<string, string>>();
      for (const s of out) now.set(labelsKey(s.labels), s.labels);
      const stale: OutputSample[] = [];
      for (const [k, labels] of this.previousSeries[i])
        if (!now.has(k)) stale.push({ labels, timeMs: t, value: STALE_NAN });
      this.previousSeries[i] = now;
      const all = out.concat(stale);
      if (all.length > 0) await this.ctx.sink.append(all);
      samples += out.length;
      this.health[i] = {
        health: 'ok',
        lastError: '',
        lastEvaluationMs: timeMs,
        evaluationDurationMs: Date.now() - started,
      };
    }
    return { errors, transitions, samples };
  }

  private record(rule: RecordingRule, rows: QueryRows, t: number): OutputSample[] {
    const seen = new Set<string>();
    return rows.map((r) => {
      const labels: Record<string, string> = { ...r.labels, __name__: rule.record };
      for (const [k, v] of Object.entries(rule.labels)) {
        if (v === '') delete labels[k];
        else labels[k] = v;
      }
      const key = labelsKey(labels);
      if (seen.has(key))
        throw new RuleEvalError('vector contains metrics with the same labelset after applying rule labels');
      seen.add(key);
      return { labels, timeMs: t, value: r.value };
    });
  }

  private async alert(
    index: number,
    rule: AlertingRule,
    rows: QueryRows,
    evalMs: number,
  ): Promise<{ series: SeriesSample[]; moves: AlertTransition[] }> {
    const query = templateQuery(this.ctx.engine, evalMs);
    const externalLabels = this.ctx.externalLabels ?? {};
    const externalUrl = this.ctx.externalUrl ?? '';
    const candidates: AlertCandidate[] = [];
    for (const r of rows) {
      const input = {
        alertName: rule.alert,
        labels: r.labels,
        externalLabels,
        externalUrl,
        value: r.value,
        timeMs: evalMs,
        query,
      };
      const labels: Record<string, string> = { ...r.labels };
      delete labels.__name__;
      for (const [k, v] of Object.entries(rule.labels)) {
        const expanded = await expandAlertTemplate(v, input);
        if (expanded === '') delete labels[k];
        else labels[k] = expanded;
      }
      const annotations: Record<string, string> = {};
      for (const [k, v] of Object.entries(rule.annotations)) annotations[k] = await expandAlertTemplate(v, input);
      candidates.push({ labels, annotations, value: r.value });
    }
    const decision = decideAlerts(
      this.alertStates[index],
      { name: rule.alert, forMs: rule.forMs, keepFiringForMs: rule.keepFiringForMs },
      candidates,
      evalMs,
    );
    this.alertStates[index] = decision.state;
    return { series: decision.series, moves: decision.transitions };
  }
}
