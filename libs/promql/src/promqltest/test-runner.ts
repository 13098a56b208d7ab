/**
 * Runs promqltest scripts against PromqlEngine over a MemoryQueryable. Every eval command is one
 * case: passed, failed (with the reason and line), or skipped with a named reason — native
 * histograms and the features docs/promql.md lists as unsupported.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Labels } from '@arcwatch/contracts';
import { walkExpr, type Expr } from '../ast';
import { PromqlEngine, type RawQueryResult } from '../engine';
import { PromqlError } from '../errors';
import { FUNCTIONS } from '../function-table';
import { MemoryQueryable } from '../memory-queryable';
import { parsePromql } from '../parser';
import { matchesAll } from '../selectors';
import { compareResult } from './result-compare';
import { parseSeriesLine } from './series-notation';
import { parseTestScript, type EvalCommand, type Expectation, type LoadCommand } from './test-script';

export interface TestCaseOutcome {
  line: number;
  query: string;
  status: 'passed' | 'failed' | 'skipped';
  /** Why it failed or was skipped. */
  reason?: string;
}

export interface TestFileReport {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  cases: TestCaseOutcome[];
}

/** Features the engine does not implement; evals using them are skipped with this reason. */
function unsupportedFeature(query: string, ast: Expr | undefined, nativeData: boolean): string | undefined {
  if (/\b(anchored|smoothed)\b/.test(query)) return 'extended range selectors (anchored/smoothed) are not supported';
  if (/<\/|>\//.test(query)) return 'trim operators </ and >/ apply to native histograms only';
  if (/\binfo\s*\(/.test(query)) return 'info() is not supported (experimental)';
  if (!ast) {
    // The lezer grammar only knows min_of()/max_of() inside durations; Prometheus also takes them as numbers.
    if (/\b(min_of|max_of)\s*\(/.test(query))
      return 'min_of()/max_of() outside a duration are not in the lezer grammar';
    return undefined;
  }
  let reason: string | undefined;
  walkExpr(ast, (e) => {
    if (reason) return;
    // Over float-only data these functions rightly return nothing, so only native data is skipped.
    if (nativeData && e.kind === 'call' && FUNCTIONS[e.func]?.nativeHistogram)
      reason = `native histogram function ${e.func}()`;
  });
  return reason;
}

class ScriptRun {
  private readonly store = new MemoryQueryable();
  private readonly engine = new PromqlEngine(this.store, { lookbackDeltaMs: 5 * 60_000, subqueryStepMs: 60_000 });
  /** Label sets of series that hold native histogram samples (not loaded; queries on them skip). */
  private histogramSeries: Labels[] = [];

  load(cmd: LoadCommand): void {
    for (const l of cmd.series) {
      const { labels, points } = parseSeriesLine(l.text);
      points.forEach((p, i) => {
        if (p.kind === 'value') this.store.add(labels, i * cmd.intervalMs, p.value);
      });
      if (points.some((p) => p.kind === 'histogram')) this.histogramSeries.push(labels);
      if (cmd.withNhcb && labels.__name__?.endsWith('_bucket')) {
        const nhcb: Labels = { ...labels, __name__: labels.__name__.slice(0, -'_bucket'.length) };
        delete nhcb.le;
        this.histogramSeries.push(nhcb);
      }
    }
  }

  clear(): void {
    this.store.clear();
    this.histogramSeries = [];
  }

  private skipReason(cmd: EvalCommand, ast: Expr | undefined): string | undefined {
    const feature = unsupportedFeature(cmd.query, ast, this.histogramSeries.length > 0);
    if (feature) return feature;
    if (cmd.expected.some((l) => l.text.includes('{{'))) return 'expects native histogram values';
    if (ast && this.histogramSeries.length > 0) {
      let touches = false;
      walkExpr(ast, (e) => {
        if (e.kind === 'vectorSelector' && this.histogramSeries.some((l) => matchesAll(e.matchers, l))) touches = true;
      });
      if (touches) return 'selects native histogram series';
    }
    return undefined;
  }

  async eval(cmd: EvalCommand): Promise<TestCaseOutcome> {
    const base = { line: cmd.line, query: cmd.query };
    let ast: Expr | undefined;
    let parseErr: unknown;
    try {
      ast = parsePromql(cmd.query);
    } catch (err) {
      parseErr = err;
    }
    const skip = this.skipReason(cmd, ast);
    if (skip) return { ...base, status: 'skipped', reason: skip };
    let outcome: RawQueryResult | undefined;
    let error: unknown = parseErr;
    if (ast) {
      try {
        outcome = cmd.range
          ? await this.engine.evaluateRange(cmd.query, cmd.range.startMs, cmd.range.endMs, cmd.range.stepMs)
          : await this.engine.evaluateInstant(cmd.query, cmd.instantAtMs ?? 0);
      } catch (err) {
        error = err;
      }
    }
    const failure = checkOutcome(cmd, outcome, error);
    return failure ? { ...base, status: 'failed', reason: failure } : { ...base, status: 'passed' };
  }
}

function errorTexts(err: unknown): string[] {
  if (err instanceof PromqlError) return [err.detail, err.message];
  return [err instanceof Error ? err.message : String(err)];
}

function matches(texts: string[], m: Expectation['match']): boolean {
  if (!m) return true;
  if (m.kind === 'msg') return texts.some((t) => t === m.text);
  const re = new RegExp(m.text);
  return texts.some((t) => re.test(t));
}

function checkAnnotations(kind: 'warn' | 'info', expectations: Expectation[], actual: string[]): string | undefined {
  const wanted = expectations.filter((e) => e.type === kind);
  if (expectations.some((e) => e.type === `no_${kind}`) && actual.length > 0)
    return `unexpected ${kind} annotations: ${actual.join('; ')}`;
  if (wanted.length === 0) return undefined;
  for (const w of wanted) {
    if (!actual.some((a) => matches([a], w.match)))
      return `expected ${kind} annotation${w.match ? ` ${w.match.kind} ${JSON.stringify(w.match.text)}` : ''}, got [${actual.join('; ')}]`;
  }
  // Once a kind is asserted, every annotation of that kind must be accounted for.
  const specific = wanted.filter((w) => w.match);
  if (specific.length > 0 && specific.length === wanted.length) {
    const stray = actual.filter((a) => !specific.some((w) => matches([a], w.match)));
    if (stray.length > 0) return `unexpected ${kind} annotations: ${stray.join('; ')}`;
  }
  return undefined;
}

function checkOutcome(cmd: EvalCommand, outcome: RawQueryResult | undefined, error: unknown): string | undefined {
  const fails = cmd.expectations.filter((e) => e.type === 'fail');
  if (fails.length > 0) {
    if (!error) return 'expected the query to fail, but it succeeded';
    const texts = errorTexts(error);
    for (const f of fails)
      if (!matches(texts, f.match))
        return `error ${JSON.stringify(texts[0])} does not match ${f.match!.kind} ${JSON.stringify(f.match!.text)}`;
    return undefined;
  }
  if (error || !outcome) return `unexpected error: ${errorTexts(error)[errorTexts(error).length - 1]}`;
  const annotationProblem =
    checkAnnotations('warn', cmd.expectations, outcome.warnings) ??
    checkAnnotations('info', cmd.expectations, outcome.infos);
  if (annotationProblem) return annotationProblem;
  return compareResult(
    cmd,
    outcome.result,
    cmd.expectations.some((e) => e.type === 'ordered'),
  );
}

export async function runTestScript(text: string, file = '<script>'): Promise<TestFileReport> {
  const report: TestFileReport = { file, passed: 0, failed: 0, skipped: 0, cases: [] };
  const run = new ScriptRun();
  for (const cmd of parseTestScript(text)) {
    if (cmd.kind === 'clear') run.clear();
    else if (cmd.kind === 'load') run.load(cmd);
    else {
      const outcome = await run.eval(cmd);
      report.cases.push(outcome);
      report[outcome.status]++;
    }
  }
  return report;
}

export async function runTestFile(filePath: string): Promise<TestFileReport> {
  return runTestScript(await readFile(filePath, 'utf8'), path.basename(filePath));
}
