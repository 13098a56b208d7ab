/**
 * `promtool test rules` semantics (Prometheus 3): for each test group, input series are loaded
 * lazily up to each evaluation time, every rule group is evaluated at 0, ei, 2·ei … up to the
 * largest eval_time, firing alerts are compared at each alert_rule_test's eval_time (the
 * evaluation at or just before it), and promql_expr_test queries run afterwards against the
 * inputs plus everything the rules wrote. Failure messages are promtool's, so tools that parse
 * promtool output read ours.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Labels } from '@arcwatch/contracts';
import { ConfigFileError } from '@arcwatch/config-files';
import {
  MemoryQueryable,
  PromqlEngine,
  parsePromql,
  parseSeriesHead,
  parseSeriesValues,
  matchesAll,
  type Expr,
} from '@arcwatch/promql';
import type { RuleGroup } from '@arcwatch/rules';
import { loadAlertRuleFiles } from '../rule-files';
import { compareLabelSets, formatLabelSet, sameLabels } from '../state/labels';
import { RuleGroupEvaluator } from '../state/rule-group.evaluator';
import { expandHistogramToken, histogramText, withReadBackHints, type NativeHistogram } from './native-histogram';
import { formatFloatE, formatGoDuration, formatModelDuration } from './promtool-format';
import { parseUnitTestFile, UnitTestFileError, type TestGroup, type UnitTestFile } from './unit-test-file.schema';

export interface UnitTestOptions {
  /** `--run`: only test groups whose name matches one of these regular expressions. */
  run?: string[];
}

export interface UnitTestFileResult {
  file: string;
  errors: string[];
  warnings: string[];
}

const LOOKBACK_MS = 5 * 60_000;

interface LoadedSample {
  labels: Labels;
  t: number;
  v: number;
}

interface HistogramSeries {
  labels: Labels;
  points: Array<{ t: number; h: NativeHistogram | 'stale' }>;
}

function splitTokens(values: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of values) {
    if (c === '{') depth++;
    if (c === '}') depth--;
    if (/\s/.test(c) && depth === 0) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

function globFiles(pattern: string): string[] {
  if (!/[*?[]/.test(pattern)) {
    try {
      readFileSync(pattern);
      return [pattern];
    } catch {
      return [];
    }
  }
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  const re = new RegExp(
    `^${base
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );
  try {
    return readdirSync(dir)
      .filter((f) => re.test(f))
      .sort()
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

function sortAlerts(
  xs: Array<{ labels: Labels; annotations: Labels }>,
): Array<{ labels: Labels; annotations: Labels }> {
  return [...xs].sort((a, b) => compareLabelSets(a.labels, b.labels) || compareLabelSets(a.annotations, b.annotations));
}

function indentLines(text: string, indent: string): string {
  return text.split('\n').join('\n' + indent);
}

function alertsString(xs: Array<{ labels: Labels; annotations: Labels }>): string {
  if (xs.length === 0) return '[]';
  const one = (a: { labels: Labels; annotations: Labels }): string =>
    `Labels:${formatLabelSet(a.labels)}\nAnnotations:${formatLabelSet(a.annotations)}`;
  let s = '[\n0:' + indentLines('\n' + one(xs[0]), '  ');
  xs.slice(1).forEach((a, i) => {
    s += `,\n${i + 1}:` + indentLines('\n' + one(a), '  ');
  });
  return s + '\n]';
}

interface GotSample {
  labels: Labels;
  value: number;
  histogram: string;
}

function samplesString(xs: GotSample[]): string {
  if (xs.length === 0) return 'nil';
  return xs.map((s) => `${formatLabelSet(s.labels)} ${s.histogram || formatFloatE(s.value)}`).join(', ');
}

function goQuoteExpr(s: string): string {
  return JSON.stringify(s).replace(/\\u([0-9a-f]{4})/g, (_, h: string) => `\\x${h.slice(2)}`);
}

function floatEqual(a: number, b: number, fuzzy: boolean): boolean {
  if (a === b) return true;
  if (!fuzzy || !Number.isFinite(a) || !Number.isFinite(b)) return false;
  // One ULP either way, as promtool's fuzzy_compare.
  const buf = new Float64Array([a]);
  const bits = new BigInt64Array(buf.buffer);
  for (const d of [1n, -1n]) {
    const c = new BigInt64Array([bits[0] + d]);
    if (new Float64Array(c.buffer)[0] === b) return true;
  }
  return false;
}

class TestGroupRun {
  private readonly store = new MemoryQueryable();
  private readonly engine: PromqlEngine;
  private pending: LoadedSample[] = [];
  private pendingAt = 0;
  private readonly histograms: HistogramSeries[] = [];
  private readonly startMs: number;

  constructor(
    private readonly tg: TestGroup,
    private readonly evalIntervalMs: number,
    private readonly fuzzy: boolean,
  ) {
    this.engine = new PromqlEngine(this.store, { lookbackDeltaMs: LOOKBACK_MS, subqueryStepMs: evalIntervalMs });
    this.startMs = parseStart(tg.start_timestamp);
  }

  /** Expands input_series; a bad series is promtool's load error. */
  loadInputs(): string | undefined {
    const intervalMs = this.tg.interval ?? this.evalIntervalMs;
    for (const s of this.tg.input_series ?? []) {
      try {
        const { labels, rest } = parseSeriesHead((s.series ?? '').trim());
        const text = `${rest} ${s.values ?? ''}`.trim();
        if (text.includes('{{')) {
          this.loadHistograms(labels, text, intervalMs);
          continue;
        }
        parseSeriesValues(text).forEach((p, i) => {
          if (p.kind === 'value') this.pending.push({ labels, t: this.startMs + i * intervalMs, v: p.value });
        });
      } catch (e) {
        return `error in input_series: ${(e as Error).message}`;
      }
    }
    this.pending.sort((a, b) => a.t - b.t);
    return undefined;
  }

  private loadHistograms(labels: Labels, text: string, intervalMs: number): void {
    const pts: Array<NativeHistogram | 'stale' | undefined> = [];
    for (const tok of splitTokens(text)) {
      if (tok === '_') pts.push(undefined);
      else if (tok === 'stale') pts.push('stale');
      else if (/^_x\d+$/.test(tok)) for (let i = 0; i < Number(tok.slice(2)); i++) pts.push(undefined);
      else pts.push(...expandHistogramToken(tok));
    }
    const hs = withReadBackHints(pts.filter((p): p is NativeHistogram => p !== undefined && p !== 'stale'));
    let k = 0;
    const points: HistogramSeries['points'] = [];
    pts.forEach((p, i) => {
      if (p === undefined) return;
      points.push({ t: this.startMs + i * intervalMs, h: p === 'stale' ? 'stale' : hs[k++] });
    });
    this.histograms.push({ labels, points });
  }

  /** Appends the input samples at or before `t` (promtool's lazy loader). */
  private loadTill(t: number): void {
    while (this.pendingAt < this.pending.length && this.pending[this.pendingAt].t <= t) {
      const s = this.pending[this.pendingAt++];
      this.store.add(s.labels, s.t, s.v);
    }
  }

  async run(groups: RuleGroup[]): Promise<string[]> {
    const tg = this.tg;
    const errs: string[] = [];
    const ctx = {
      engine: this.engine,
      sink: {
        append: (xs: Array<{ labels: Labels; timeMs: number; value: number }>) =>
          xs.forEach((s) => this.store.add(s.labels, s.timeMs, s.value)),
      },
      externalLabels: tg.external_labels ?? {},
      externalUrl: tg.external_url ?? '',
    };
    const evaluators = groups.map((g) => new RuleGroupEvaluator(g, ctx));
    const alertTests = tg.alert_rule_test ?? [];
    for (const a of alertTests) {
      if (!a.alertname) {
        const inGroup = tg.name ? ` (in TestGroup ${tg.name})` : '';
        return [
          `an item under alert_rule_test misses required attribute alertname at eval_time ${formatModelDuration(a.eval_time ?? 0)}${inGroup}`,
        ];
      }
    }
    const evalTimes = [...new Set(alertTests.map((a) => a.eval_time ?? 0))].sort((a, b) => a - b);
    const maxEval = Math.max(
      0,
      ...alertTests.map((a) => a.eval_time ?? 0),
      ...(tg.promql_expr_test ?? []).map((p) => p.eval_time ?? 0),
    );
    let curr = 0;
    for (let off = 0; off <= maxEval; off += this.evalIntervalMs) {
      const ts = this.startMs + off;
      this.loadTill(ts);
      const evalErrs: string[] = [];
      for (const ev of evaluators) {
        const res = await ev.evaluate(ts);
        for (const e of res.errors)
          evalErrs.push(`    rule: ${e.rule}, time: ${formatGoDuration(ts)}, err: ${e.message}`);
      }
      errs.push(...evalErrs);
      if (evalErrs.length > 0) return errs;
      while (curr < evalTimes.length && off <= evalTimes[curr] && evalTimes[curr] < off + this.evalIntervalMs) {
        const t = evalTimes[curr];
        for (const tc of alertTests.filter((a) => (a.eval_time ?? 0) === t)) {
          const got: Array<{ labels: Labels; annotations: Labels }> = [];
          evaluators.forEach((ev) => {
            ev.group.rules.forEach((r, i) => {
              if (r.kind !== 'alerting' || r.rule.alert !== tc.alertname) return;
              for (const a of Object.values(ev.alertStates[i].alerts))
                if (a.state === 'firing') got.push({ labels: a.labels, annotations: a.annotations });
            });
          });
          const exp = (tc.exp_alerts ?? []).map((x) => ({
            labels: { ...(x.exp_labels ?? {}), alertname: tc.alertname as string },
            annotations: { ...(x.exp_annotations ?? {}) },
          }));
          const g = sortAlerts(got);
          const e = sortAlerts(exp);
          const same =
            g.length === e.length &&
            g.every((x, i) => sameLabels(x.labels, e[i].labels) && sameLabels(x.annotations, e[i].annotations));
          if (!same) {
            const testName = tg.name ? `    name: ${tg.name},\n` : '';
            errs.push(
              `${testName}    alertname: ${tc.alertname}, time: ${formatModelDuration(t)}, \n        exp:${indentLines(alertsString(e), '            ')}, \n        got:${indentLines(alertsString(g), '            ')}`,
            );
          }
        }
        curr++;
      }
    }
    for (const tc of tg.promql_expr_test ?? []) errs.push(...(await this.exprTest(tc)));
    return errs;
  }

  private async exprTest(tc: NonNullable<TestGroup['promql_expr_test']>[number]): Promise<string[]> {
    const expr = tc.expr ?? '';
    const evalTime = tc.eval_time ?? 0;
    const head = `    expr: ${goQuoteExpr(expr)}, time: ${formatModelDuration(evalTime)}`;
    let got: GotSample[];
    try {
      got = await this.query(expr, this.startMs + evalTime);
    } catch (e) {
      return [`${head}, err: ${(e as Error).message}`];
    }
    const exp: GotSample[] = [];
    for (const s of tc.exp_samples ?? []) {
      let labels: Labels;
      let histogram = '';
      try {
        labels = (s.labels ?? '').trim() === '' ? {} : parseSeriesHead((s.labels ?? '').trim()).labels;
        if (s.histogram) histogram = histogramText(expandHistogramToken(s.histogram.trim())[0]);
      } catch (e) {
        return [`${head}, err: labels ${goQuoteExpr(s.labels ?? '')}: ${(e as Error).message}`];
      }
      exp.push({ labels, value: histogram ? 0 : (s.value ?? 0), histogram });
    }
    const order = (a: GotSample, b: GotSample): number => compareLabelSets(a.labels, b.labels);
    exp.sort(order);
    got.sort(order);
    const same =
      exp.length === got.length &&
      exp.every(
        (e, i) =>
          sameLabels(e.labels, got[i].labels) &&
          e.histogram === got[i].histogram &&
          (e.histogram !== '' || floatEqual(e.value, got[i].value, this.fuzzy)),
      );
    if (same) return [];
    return [`${head},\n        exp: ${samplesString(exp)}\n        got: ${samplesString(got)}`];
  }

  private async query(expr: string, timeMs: number): Promise<GotSample[]> {
    const ast = parsePromql(expr);
    const hist = this.histogramSelection(ast, timeMs);
    if (hist) return hist;
    const { result } = await this.engine.evaluateInstant(ast, timeMs);
    if (result.type === 'vector')
      return result.samples.map((s) => ({ labels: s.labels, value: s.value, histogram: '' }));
    if (result.type === 'scalar') return [{ labels: {}, value: result.value, histogram: '' }];
    throw new Error('rule result is not a vector or scalar');
  }

  /** A bare selector over native-histogram input series: the latest histogram in the lookback window. */
  private histogramSelection(ast: Expr, timeMs: number): GotSample[] | undefined {
    if (ast.kind !== 'vectorSelector' || ast.offset || ast.at) return undefined;
    const matching = this.histograms.filter((h) => matchesAll(ast.matchers, h.labels));
    if (matching.length === 0) return undefined;
    const out: GotSample[] = [];
    for (const h of matching) {
      const inWindow = h.points.filter((p) => p.t > timeMs - LOOKBACK_MS && p.t <= timeMs);
      const last = inWindow[inWindow.length - 1];
      if (last && last.h !== 'stale') out.push({ labels: h.labels, value: 0, histogram: histogramText(last.h) });
    }
    return out;
  }
}

function parseStart(v: string | undefined): number {
  if (v === undefined || v === '') return 0;
  if (/^-?\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new UnitTestFileError(`cannot parse "${v}" to a valid timestamp`);
  return ms;
}

function orderGroups(groups: RuleGroup[], order: string[]): RuleGroup[] {
  const idx = new Map(order.map((n, i) => [n, i]));
  return groups
    .map((g, i) => ({ g, i }))
    .sort((a, b) => (idx.get(a.g.name) ?? 0) - (idx.get(b.g.name) ?? 0) || a.i - b.i)
    .map((x) => x.g);
}

/** Runs one unit-test file; returns its errors (empty = every test passed). */
export async function runUnitTestFile(file: string, opts: UnitTestOptions = {}): Promise<UnitTestFileResult> {
  let spec: UnitTestFile;
  try {
    spec = parseUnitTestFile(readFileSync(file, 'utf8'), file);
  } catch (e) {
    return { file, errors: [(e as Error).message], warnings: [] };
  }
  const dir = path.dirname(file);
  const ruleFiles: string[] = [];
  const warnings: string[] = [];
  for (const rf of spec.rule_files ?? []) {
    const p = rf !== '' && !path.isAbsolute(rf) ? path.join(dir, rf) : rf;
    const m = globFiles(p);
    if (m.length === 0) warnings.push(`  WARNING: no file match pattern ${p}`);
    ruleFiles.push(...m);
  }
  const evalIntervalMs = spec.evaluation_interval || 60_000;
  const order = spec.group_eval_order ?? [];
  const dup = order.find((n, i) => order.indexOf(n) !== i);
  if (dup !== undefined) return { file, errors: [`group name repeated in evaluation order: ${dup}`], warnings };
  const run = opts.run && opts.run.length > 0 ? new RegExp(opts.run.join('|')) : undefined;
  const errors: string[] = [];
  // The rule files are read once per group interval, not once per test group: the parsed groups
  // are never changed by an evaluation (its state lives in RuleGroupEvaluator), and parsing a large
  // file for each of its dozens of test groups took a third of such a file's time.
  const loaded = new Map<number, RuleGroup[] | ConfigFileError>();
  for (const tg of spec.tests ?? []) {
    if (run && !run.test(tg.name ?? '')) continue;
    const interval = tg.interval || spec.evaluation_interval || 60_000;
    const group: TestGroup = { ...tg, interval };
    let groups = loaded.get(interval);
    if (groups === undefined) {
      try {
        groups = loadAlertRuleFiles(ruleFiles, { defaultIntervalMs: interval });
      } catch (e) {
        if (!(e instanceof ConfigFileError)) throw e;
        groups = e;
      }
      loaded.set(interval, groups);
    }
    if (groups instanceof ConfigFileError) {
      errors.push(...groups.issues.map((x) => `${x.file}:${x.line}:${x.column}: ${x.field}: ${x.message}`));
      continue;
    }
    let runner: TestGroupRun;
    try {
      runner = new TestGroupRun(group, evalIntervalMs, spec.fuzzy_compare ?? false);
    } catch (e) {
      errors.push((e as Error).message);
      continue;
    }
    const loadErr = runner.loadInputs();
    if (loadErr) {
      errors.push(loadErr);
      continue;
    }
    errors.push(...(await runner.run(orderGroups(groups, order))));
  }
  return { file, errors, warnings };
}

/** promtool's output for a set of files: stdout and stderr lines and the exit code. */
export async function testRuleFiles(
  files: string[],
  opts: UnitTestOptions,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  let failed = false;
  for (const f of files) {
    const r = await runUnitTestFile(f, opts);
    out(`Unit Testing:  ${f}`);
    for (const w of r.warnings) err(w);
    if (r.errors.length > 0) {
      err('  FAILED:');
      for (const e of r.errors) {
        err(e);
        out('');
      }
      failed = true;
    } else {
      out('  SUCCESS');
    }
    out('');
  }
  return failed ? 1 : 0;
}
