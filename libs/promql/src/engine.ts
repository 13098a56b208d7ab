/**
 * The query engine: parses, selects every selector's data once for the whole query window,
 * evaluates step by step (evaluator.ts), and shapes results as the Prometheus API does.
 */
import type { Labels, Queryable } from '@arcwatch/contracts';
import type { Expr, VectorSelector } from './ast';
import { Annotations } from './annotations';
import { PromqlError, executionError } from './errors';
import { Evaluator, type EvalParams, type PreparedSeries } from './evaluator';
import { formatPromValue } from './literals';
import { parsePromql } from './parser';
import { gridMatrix } from './range-batch';
import { planRollups, type RollupPlan } from './rollup-eval';
import { typeOf } from './typecheck';
import { labelsKey, sortByLabels, withoutName, type Sample, type Value } from './values';

export interface PromqlEngineOptions {
  /** How far back an instant selector looks for the latest sample. Default 5 minutes. */
  lookbackDeltaMs?: number;
  /** Most samples one evaluation step may hold. Default 50 million. */
  maxSamples?: number;
  /** Wall-clock limit per query. Default 2 minutes. */
  timeoutMs?: number;
  /** Resolution of subqueries written without a step. Default 1 minute. */
  subqueryStepMs?: number;
}

/** Numeric results, for callers that compute on them (rules, the test runner). */
export type RawResult =
  | { type: 'scalar'; timeMs: number; value: number }
  | { type: 'string'; timeMs: number; value: string }
  | { type: 'vector'; timeMs: number; samples: { labels: Labels; value: number }[] }
  | { type: 'matrix'; series: RawSeries[] };

export interface RawSeries {
  labels: Labels;
  timestamps: number[];
  values: number[];
}

export interface RawQueryResult {
  result: RawResult;
  warnings: string[];
  infos: string[];
}

type PromPoint = [number, string];

/** The `data` of a Prometheus `/api/v1/query(_range)` response, plus its annotations. */
export type QueryResult =
  | { resultType: 'vector'; result: { metric: Labels; value: PromPoint }[]; warnings: string[]; infos: string[] }
  | { resultType: 'matrix'; result: { metric: Labels; values: PromPoint[] }[]; warnings: string[]; infos: string[] }
  | { resultType: 'scalar'; result: PromPoint; warnings: string[]; infos: string[] }
  | { resultType: 'string'; result: PromPoint; warnings: string[]; infos: string[] };

const MAX_POINTS_PER_SERIES = 11_000;

/**
 * Where one query's time went, in milliseconds, filled in by the engine when the caller passes
 * one: `selectMs` parsing, planning and reading every selector's data from storage; `evalMs`
 * evaluating over that data.
 */
export interface QueryTimings {
  selectMs: number;
  evalMs: number;
}

export class PromqlEngine {
  private readonly lookbackMs: number;
  private readonly maxSamples: number;
  private readonly timeoutMs: number;
  private readonly subqueryStepMs: number;

  constructor(
    private readonly queryable: Queryable,
    opts: PromqlEngineOptions = {},
  ) {
    this.lookbackMs = opts.lookbackDeltaMs ?? 5 * 60_000;
    this.maxSamples = opts.maxSamples ?? 50_000_000;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.subqueryStepMs = opts.subqueryStepMs ?? 60_000;
  }

  async instantQuery(expr: string, timeMs: number): Promise<QueryResult> {
    return formatResult(await this.evaluateInstant(expr, timeMs));
  }

  async rangeQuery(expr: string, startMs: number, endMs: number, stepMs: number): Promise<QueryResult> {
    return formatResult(await this.evaluateRange(expr, startMs, endMs, stepMs));
  }

  /** Instant query with numeric results (for rule evaluation). */
  async evaluateInstant(expr: string | Expr, timeMs: number, timings?: QueryTimings): Promise<RawQueryResult> {
    const t0 = performance.now();
    const ast = typeof expr === 'string' ? parsePromql(expr) : expr;
    const { ev, notes } = await this.prepare(ast, { startMs: timeMs, endMs: timeMs, stepMs: 0 }, sourceOf(expr));
    const t1 = performance.now();
    const v = ev.eval(ast, timeMs);
    const result = finishInstant(v, timeMs);
    if (timings) {
      timings.selectMs = t1 - t0;
      timings.evalMs = performance.now() - t1;
    }
    return { result, warnings: [...notes.warnings], infos: [...notes.infos] };
  }

  /** Range query with numeric results. */
  async evaluateRange(
    expr: string | Expr,
    startMs: number,
    endMs: number,
    stepMs: number,
    timings?: QueryTimings,
  ): Promise<RawQueryResult> {
    if (!(stepMs > 0))
      throw new PromqlError(
        'bad_data',
        'zero or negative query resolution step widths are not accepted. Try a positive integer',
      );
    if (endMs < startMs) throw new PromqlError('bad_data', 'end timestamp must not be before start time');
    if ((endMs - startMs) / stepMs > MAX_POINTS_PER_SERIES) {
      throw new PromqlError(
        'bad_data',
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
      );
    }
    const t0 = performance.now();
    const ast = typeof expr === 'string' ? parsePromql(expr) : expr;
    const t = typeOf(ast);
    if (t !== 'scalar' && t !== 'vector') {
      throw new PromqlError(
        'bad_data',
        `invalid expression type ${JSON.stringify(t === 'matrix' ? 'range vector' : t)} for range query, must be Scalar or instant Vector`,
      );
    }
    const { ev, notes } = await this.prepare(ast, { startMs, endMs, stepMs }, sourceOf(expr));
    const t1 = performance.now();
    const series = evaluateMatrix(ev, ast, startMs, endMs, stepMs);
    if (timings) {
      timings.selectMs = t1 - t0;
      timings.evalMs = performance.now() - t1;
    }
    return { result: { type: 'matrix', series }, warnings: [...notes.warnings], infos: [...notes.infos] };
  }

  private async prepare(
    ast: Expr,
    window: Pick<EvalParams, 'startMs' | 'endMs' | 'stepMs'>,
    source: string,
  ): Promise<{ ev: Evaluator; notes: Annotations }> {
    const params: EvalParams = {
      ...window,
      lookbackMs: this.lookbackMs,
      subqueryStepMs: this.subqueryStepMs,
      maxSamples: this.maxSamples,
      deadline: Date.now() + this.timeoutMs,
    };
    const data = new Map<VectorSelector, PreparedSeries[]>();
    const notes = new Annotations(source);
    const ev = new Evaluator(params, data, notes);
    const plans =
      window.stepMs > 0 && this.queryable.selectRollups && this.queryable.rollupResolutionsMs
        ? planRollups(ev, ast, await this.queryable.rollupResolutionsMs())
        : new Map<VectorSelector, RollupPlan>();
    const windows = new Map<VectorSelector, { min: number; max: number }>();
    collectWindows(ev, ast, window.startMs, window.endMs, windows);
    for (const sel of plans.keys()) windows.delete(sel);
    await Promise.all([
      ...[...plans].map(async ([sel, p]) => {
        const found = await this.queryable.selectRollups!(sel.matchers, p.min, p.max, p.resolutionMs);
        ev.rollups.set(sel, sortByLabels(found));
      }),
      ...[...windows].map(async ([sel, w]) => {
        const found = await this.queryable.select(sel.matchers, w.min, w.max);
        data.set(sel, sortByLabels(found.map(prepareSeries)));
      }),
    ]);
    if (Date.now() > params.deadline) throw new PromqlError('timeout', 'query timed out in query execution');
    return { ev, notes };
  }
}

/** A range query's series, sorted by labels: from the grid when the whole expression is on it, else step by step. */
function evaluateMatrix(ev: Evaluator, ast: Expr, startMs: number, endMs: number, stepMs: number): RawSeries[] {
  const direct = gridMatrix(ev, ast);
  if (direct) return sortByLabels(direct);
  const series = new Map<string, RawSeries>();
  for (let ts = startMs; ts <= endMs; ts += stepMs) {
    ev.resetSampleCount();
    const v = ev.eval(ast, ts);
    const samples: Sample[] =
      v.type === 'scalar' ? [{ labels: {}, value: v.value }] : v.type === 'vector' ? v.samples : [];
    const seen = new Set<string>();
    for (const s of samples) {
      const labels = s.dropName ? withoutName(s.labels) : s.labels;
      const key = labelsKey(labels);
      if (seen.has(key)) throw executionError('vector cannot contain metrics with the same labelset');
      seen.add(key);
      let out = series.get(key);
      if (!out) series.set(key, (out = { labels, timestamps: [], values: [] }));
      out.timestamps.push(ts);
      out.values.push(s.value);
    }
  }
  return sortByLabels([...series.values()]);
}

function sourceOf(expr: string | Expr): string {
  return typeof expr === 'string' ? expr : '';
}

function prepareSeries(s: {
  labels: Labels;
  timestamps: ArrayLike<number>;
  values: ArrayLike<number>;
}): PreparedSeries {
  const ts = s.timestamps instanceof Float64Array ? s.timestamps : Float64Array.from(s.timestamps);
  const vs = s.values instanceof Float64Array ? s.values : Float64Array.from(s.values);
  return { labels: s.labels, ts, vs };
}

function widen(
  windows: Map<VectorSelector, { min: number; max: number }>,
  sel: VectorSelector,
  min: number,
  max: number,
): void {
  const w = windows.get(sel);
  if (!w) windows.set(sel, { min, max });
  else {
    w.min = Math.min(w.min, min);
    w.max = Math.max(w.max, max);
  }
}

/**
 * Works out, for every selector, the one time window that covers all its evaluations:
 * [first step - offset - range - lookback, last step - offset], with `@` pinning the steps and
 * subqueries widening the window of everything beneath them.
 */
function collectWindows(
  ev: Evaluator,
  e: Expr,
  lo: number,
  hi: number,
  out: Map<VectorSelector, { min: number; max: number }>,
): void {
  switch (e.kind) {
    case 'vectorSelector': {
      const refLo = ev.referenceTime(lo, e.at, e.offset);
      const refHi = ev.referenceTime(hi, e.at, e.offset);
      widen(out, e, Math.min(refLo, refHi) - ev.params.lookbackMs, Math.max(refLo, refHi));
      return;
    }
    case 'matrixSelector': {
      const a = ev.matrixWindow(e, lo);
      const b = ev.matrixWindow(e, hi);
      widen(out, e.selector, Math.min(a.start, b.start), Math.max(a.end, b.end));
      return;
    }
    case 'subquery': {
      const a = ev.subqueryWindow(e, lo);
      const b = ev.subqueryWindow(e, hi);
      collectWindows(ev, e.expr, Math.min(a.start, b.start), Math.max(a.end, b.end), out);
      return;
    }
    case 'aggregate':
      if (e.param) collectWindows(ev, e.param, lo, hi, out);
      collectWindows(ev, e.expr, lo, hi, out);
      return;
    case 'binary':
      collectWindows(ev, e.lhs, lo, hi, out);
      collectWindows(ev, e.rhs, lo, hi, out);
      return;
    case 'call':
      for (const a of e.args) collectWindows(ev, a, lo, hi, out);
      return;
    case 'paren':
    case 'unary':
      collectWindows(ev, e.expr, lo, hi, out);
      return;
    default:
      return;
  }
}

/** Applies pending name removals and rejects label sets that became equal. */
function finishInstant(v: Value, timeMs: number): RawResult {
  switch (v.type) {
    case 'scalar':
      return { type: 'scalar', timeMs, value: v.value };
    case 'string':
      return { type: 'string', timeMs, value: v.value };
    case 'vector': {
      const seen = new Set<string>();
      const samples = v.samples.map((s) => {
        const labels = s.dropName ? withoutName(s.labels) : s.labels;
        const key = labelsKey(labels);
        if (seen.has(key)) throw executionError('vector cannot contain metrics with the same labelset');
        seen.add(key);
        return { labels, value: s.value };
      });
      return { type: 'vector', timeMs, samples };
    }
    case 'matrix': {
      const seen = new Set<string>();
      const series = v.series.map((s) => {
        const labels = s.dropName ? withoutName(s.labels) : s.labels;
        const key = labelsKey(labels);
        if (seen.has(key)) throw executionError('vector cannot contain metrics with the same labelset');
        seen.add(key);
        return { labels, timestamps: Array.from(s.ts), values: Array.from(s.vs) };
      });
      return { type: 'matrix', series: sortByLabels(series) };
    }
  }
}

const point = (ms: number, v: string): PromPoint => [ms / 1000, v];

/** A series' points as the API writes them; a plain loop, as this runs once per point of the response. */
function matrixPoints(s: RawSeries): PromPoint[] {
  const n = s.timestamps.length;
  const out = new Array<PromPoint>(n);
  for (let i = 0; i < n; i++) out[i] = [s.timestamps[i] / 1000, formatPromValue(s.values[i])];
  return out;
}

/** Shapes a numeric result like the Prometheus HTTP API (values as strings, seconds as floats). */
export function formatResult(raw: RawQueryResult): QueryResult {
  const { result: r, warnings, infos } = raw;
  switch (r.type) {
    case 'scalar':
      return { resultType: 'scalar', result: point(r.timeMs, formatPromValue(r.value)), warnings, infos };
    case 'string':
      return { resultType: 'string', result: point(r.timeMs, r.value), warnings, infos };
    case 'vector':
      return {
        resultType: 'vector',
        result: r.samples.map((s) => ({ metric: s.labels, value: point(r.timeMs, formatPromValue(s.value)) })),
        warnings,
        infos,
      };
    case 'matrix':
      return {
        resultType: 'matrix',
        result: r.series.map((s) => ({ metric: s.labels, values: matrixPoints(s) })),
        warnings,
        infos,
      };
  }
}

/**
 * The body of the API's success response for a numeric result, as JSON text: the same text as
 * `JSON.stringify` of `{status: 'success', data: {resultType, result}, warnings?, infos?}` over
 * formatResult. A matrix is written directly: no `[t, "v"]` array per point (180,000 for a 6 h
 * dashboard of 125 series at 15 s) and each step's time turned into text once, not per series.
 */
export function responseJson(raw: RawQueryResult): string {
  const { result: r, warnings, infos } = raw;
  const notes =
    (warnings.length > 0 ? `,"warnings":${JSON.stringify(warnings)}` : '') +
    (infos.length > 0 ? `,"infos":${JSON.stringify(infos)}` : '');
  if (r.type !== 'matrix') {
    const { resultType, result } = formatResult(raw);
    return `{"status":"success","data":${JSON.stringify({ resultType, result })}${notes}}`;
  }
  // '[<seconds>,"' per distinct timestamp; values need no escaping (digits, '.', '-', '+Inf', 'NaN')
  const opening = new Map<number, string>();
  const series = new Array<string>(r.series.length);
  for (let i = 0; i < r.series.length; i++) {
    const s = r.series[i];
    const n = s.timestamps.length;
    const points = new Array<string>(n);
    for (let k = 0; k < n; k++) {
      const t = s.timestamps[k];
      let open = opening.get(t);
      if (open === undefined) opening.set(t, (open = `[${t / 1000},"`));
      points[k] = open + closingText(s.values[k]);
    }
    series[i] = `{"metric":${JSON.stringify(s.labels)},"values":[${points.join(',')}]}`;
  }
  return `{"status":"success","data":{"resultType":"matrix","result":[${series.join(',')}]}${notes}}`;
}

/**
 * `<value>"]` for responseJson, through a small direct-mapped cache by the value's bits: turning a
 * double into its shortest text costs ~200 ns, and dashboards repeat values a lot (a gauge of
 * integers or percentages, an average of a few of them: q1's 180,000 points hold 793 distinct
 * values). A value that misses costs one hash and one compare more. Zeros and NaNs are not cached
 * (-0 === 0, and NaN never equals itself).
 */
const VALUE_SLOTS = 4096;
const valueKeys = new Float64Array(VALUE_SLOTS);
const valueTexts = new Array<string>(VALUE_SLOTS).fill('');
const hashProbe = new Float64Array(1);
const hashWords = new Uint32Array(hashProbe.buffer);

function closingText(v: number): string {
  if (v === 0 || v !== v) return formatPromValue(v) + '"]';
  hashProbe[0] = v;
  const slot = Math.imul(hashWords[0] ^ hashWords[1], 0x9e3779b1) >>> 20;
  if (valueKeys[slot] === v && valueTexts[slot] !== '') return valueTexts[slot];
  const text = formatPromValue(v) + '"]';
  valueKeys[slot] = v;
  valueTexts[slot] = text;
  return text;
}
