/**
 * Evaluates an expression at one timestamp over series that were selected up front (see
 * engine.ts). Range queries call `eval` once per step; subqueries call it at their own steps.
 * Pure: no I/O, no clock besides the deadline check.
 */
import type { Labels, RollupSeriesData } from '@arcwatch/contracts';
import { isStaleNaN } from '@arcwatch/contracts';
import type { AtModifier, DurationExpr, Expr, MatrixSelector, SubqueryExpr, VectorSelector } from './ast';
import { evalAggregate } from './aggregations';
import type { Annotations } from './annotations';
import { evalBinary } from './binary-ops';
import { PromqlError, executionError } from './errors';
import { evalCall } from './functions';
import { gridValue, type GridRows } from './range-batch';
import { labelsKey, type RangeSeries, type Sample, type Value } from './values';

export interface EvalParams {
  startMs: number;
  endMs: number;
  /** 0 for instant queries. */
  stepMs: number;
  lookbackMs: number;
  /** Resolution of subqueries written without a step (`x[1h:]`). */
  subqueryStepMs: number;
  maxSamples: number;
  /** Absolute wall-clock deadline (ms since epoch); Infinity for none. */
  deadline: number;
}

/** One stored series, as selected once for the whole query. */
export interface PreparedSeries {
  labels: Labels;
  ts: Float64Array;
  vs: Float64Array;
  /** The same points without staleness markers, built on first use by a range selector. */
  points?: { ts: Float64Array; vs: Float64Array };
  /** resets[i]: how many of points 1..i are lower than the point before (counter resets). */
  resets?: Uint32Array;
}

/** A range selector's window over one series as an index range into its points (no copies). */
export type WindowVisitor = (
  s: PreparedSeries,
  p: { ts: Float64Array; vs: Float64Array },
  from: number,
  to: number,
) => void;

/** Index of the first element > x in a sorted array. */
export function upperBound(a: ArrayLike<number>, x: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** upperBound for Float64Arrays only: keeps the element loads monomorphic in the hot loops. */
export function searchAfter(a: Float64Array, x: number, lo: number): number {
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element > x at or after `from`, walking a few points before searching. */
export function seekAfter(a: Float64Array, from: number, x: number): number {
  const n = a.length;
  for (let k = 0; k < 8; k++, from++) if (from >= n || a[from] > x) return from;
  return searchAfter(a, x, from);
}

export class Evaluator {
  private samplesInStep = 0;
  private checks = 0;
  private readonly cursors = new Map<object, { t: number; idx: Int32Array }>();
  /** Whole-grid values of nodes of a range query (range-batch.ts); null: not for that path. */
  readonly gridMemo = new Map<Expr, GridRows | null>();
  /** Selectors read from rollups instead of samples (rollup-eval.ts), with their series in label order. */
  readonly rollups = new Map<VectorSelector, RollupSeriesData[]>();

  constructor(
    readonly params: EvalParams,
    private readonly data: ReadonlyMap<VectorSelector, PreparedSeries[]>,
    readonly notes: Annotations,
  ) {}

  durationMs(d: DurationExpr): number {
    switch (d.kind) {
      case 'lit':
        return d.ms;
      case 'step':
        return this.params.stepMs;
      case 'range':
        return this.params.endMs - this.params.startMs;
      case 'neg':
        return -this.durationMs(d.expr);
      case 'minmax':
        return (d.op === 'min' ? Math.min : Math.max)(this.durationMs(d.lhs), this.durationMs(d.rhs));
      case 'bin': {
        const a = this.durationMs(d.lhs);
        const b = this.durationMs(d.rhs);
        switch (d.op) {
          case '+':
            return a + b;
          case '-':
            return a - b;
          // Both sides are milliseconds; products and quotients are rescaled to stay in ms.
          case '*':
            return (a * b) / 1000;
          case '/':
            return Math.round((a / b) * 1000);
          case '%':
            return a % b;
          case '^':
            return Math.round(Math.pow(a / 1000, b / 1000) * 1000);
        }
      }
    }
  }

  /** The time a selector or subquery reads at: its `@` time or `t`, minus its offset. */
  referenceTime(t: number, at: AtModifier | undefined, offset: DurationExpr | undefined): number {
    const base = !at ? t : at.kind === 'time' ? at.ms : at.kind === 'start' ? this.params.startMs : this.params.endMs;
    return base - (offset ? this.durationMs(offset) : 0);
  }

  eval(e: Expr, t: number): Value {
    if ((++this.checks & 1023) === 0) this.checkDeadline();
    if (this.params.stepMs > 0 && (e.kind === 'vectorSelector' || e.kind === 'call' || e.kind === 'aggregate')) {
      const v = gridValue(this, e, t);
      if (v) return v;
    }
    switch (e.kind) {
      case 'number':
        return { type: 'scalar', value: e.value };
      case 'string':
        return { type: 'string', value: e.value };
      case 'paren':
        return this.eval(e.expr, t);
      case 'unary': {
        const v = this.eval(e.expr, t);
        if (e.op === '+') return v;
        if (v.type === 'scalar') return { type: 'scalar', value: -v.value };
        if (v.type !== 'vector') throw executionError('unary minus on a non-vector');
        return {
          type: 'vector',
          samples: v.samples.map((s) => ({ labels: s.labels, value: -s.value, dropName: true })),
        };
      }
      case 'vectorSelector':
        return { type: 'vector', samples: this.selectVector(e, t) };
      case 'matrixSelector':
        return { type: 'matrix', series: this.selectMatrix(e, t) };
      case 'subquery':
        return { type: 'matrix', series: this.subquery(e, t) };
      case 'aggregate':
        return evalAggregate(this, e, t);
      case 'binary':
        return evalBinary(this, e, t);
      case 'call':
        return evalCall(this, e, t);
    }
  }

  checkDeadline(): void {
    if (Date.now() > this.params.deadline) throw new PromqlError('timeout', 'query timed out in expression evaluation');
  }

  /** The series a selector selected, in label order. */
  preparedSeries(sel: VectorSelector): PreparedSeries[] {
    return this.seriesOf(sel);
  }

  /** A series' points without staleness markers (what range selectors see). */
  pointsOf(s: PreparedSeries): { ts: Float64Array; vs: Float64Array } {
    return (s.points ??= withoutStaleMarkers(s));
  }

  evalVector(e: Expr, t: number): Sample[] {
    const v = this.eval(e, t);
    if (v.type !== 'vector') throw executionError(`expected instant vector, got ${v.type}`);
    return v.samples;
  }

  evalScalar(e: Expr, t: number): number {
    const v = this.eval(e, t);
    if (v.type !== 'scalar') throw executionError(`expected scalar, got ${v.type}`);
    return v.value;
  }

  evalString(e: Expr, t: number): string {
    const v = this.eval(e, t);
    if (v.type !== 'string') throw executionError(`expected string, got ${v.type}`);
    return v.value;
  }

  /** Starts counting samples for a new top-level step. */
  resetSampleCount(): void {
    this.samplesInStep = 0;
  }

  countSamples(n: number): void {
    this.samplesInStep += n;
    if (this.samplesInStep > this.params.maxSamples) {
      throw executionError('query processing would load too many samples into memory in query execution');
    }
  }

  private seriesOf(sel: VectorSelector): PreparedSeries[] {
    // planRollups only picks calls the grid path evaluates; reaching here would be a bug, not no data
    if (this.rollups.has(sel))
      throw executionError('internal: a selector read from rollups was evaluated from samples');
    return this.data.get(sel) ?? [];
  }

  /**
   * Per selector, the index each series' last search ended at. Range queries step forward in
   * time, so the next search starts there and usually moves a point or two; a step back (a
   * subquery starting over) searches from scratch.
   */
  private cursorsFor(key: object, n: number, width: number, t: number): { idx: Int32Array; forward: boolean } {
    let c = this.cursors.get(key);
    if (!c || c.idx.length !== n * width) this.cursors.set(key, (c = { t: -Infinity, idx: new Int32Array(n * width) }));
    const forward = t >= c.t && c.t !== -Infinity;
    c.t = t;
    return { idx: c.idx, forward };
  }

  selectVector(sel: VectorSelector, t: number): Sample[] {
    const ref = this.referenceTime(t, sel.at, sel.offset);
    const lo = ref - this.params.lookbackMs;
    const out: Sample[] = [];
    const series = this.seriesOf(sel);
    const { idx, forward } = this.cursorsFor(sel, series.length, 1, ref);
    for (let k = 0; k < series.length; k++) {
      const s = series[k];
      const next = forward ? seekAfter(s.ts, idx[k], ref) : searchAfter(s.ts, ref, 0);
      idx[k] = next;
      const i = next - 1;
      if (i < 0 || s.ts[i] <= lo || isStale(s.vs[i])) continue;
      out.push({ labels: s.labels, value: s.vs[i], ts: s.ts[i] });
    }
    this.countSamples(out.length);
    return out;
  }

  /** The steps of a range query's grid: startMs, startMs + stepMs, … up to endMs. */
  stepCount(): number {
    return Math.floor((this.params.endMs - this.params.startMs) / this.params.stepMs) + 1;
  }

  /** Per step of the grid, the time an instant selector reads at (its `@` and offset applied). */
  gridReferences(sel: VectorSelector): Float64Array {
    const { startMs, stepMs } = this.params;
    const refs = new Float64Array(this.stepCount());
    for (let k = 0; k < refs.length; k++) refs[k] = this.referenceTime(startMs + k * stepMs, sel.at, sel.offset);
    return refs;
  }

  /** Per step of the grid, the window (start, end] a range selector covers (see matrixWindow). */
  gridWindows(ms: MatrixSelector): { starts: Float64Array; ends: Float64Array } {
    const { startMs, stepMs } = this.params;
    const steps = this.stepCount();
    const starts = new Float64Array(steps);
    const ends = new Float64Array(steps);
    for (let k = 0; k < steps; k++) {
      const w = this.matrixWindow(ms, startMs + k * stepMs);
      starts[k] = w.start;
      ends[k] = w.end;
    }
    return { starts, ends };
  }

  /** The window (ref - range, ref] a range selector covers at time t. */
  matrixWindow(ms: MatrixSelector, t: number): { start: number; end: number } {
    const end = this.referenceTime(t, ms.selector.at, ms.selector.offset);
    return { start: end - this.durationMs(ms.range), end };
  }

  selectMatrix(ms: MatrixSelector, t: number): RangeSeries[] {
    const out: RangeSeries[] = [];
    this.forEachWindow(ms, t, (s, p, from, to) =>
      out.push({ labels: s.labels, ts: p.ts.subarray(from, to), vs: p.vs.subarray(from, to) }),
    );
    return out;
  }

  /**
   * selectMatrix without the views: calls `visit` with each series' points and the index range
   * [from, to) inside the window. Range queries call this once per series and step, so the two
   * typed-array views per call that selectMatrix makes dominated their time.
   */
  forEachWindow(ms: MatrixSelector, t: number, visit: WindowVisitor): void {
    const { start, end } = this.matrixWindow(ms, t);
    const series = this.seriesOf(ms.selector);
    // the range is fixed per query, so `end` moving forward moves `start` forward too
    const { idx, forward } = this.cursorsFor(ms, series.length, 2, end);
    let count = 0;
    for (let k = 0; k < series.length; k++) {
      const s = series[k];
      const p = (s.points ??= withoutStaleMarkers(s));
      const from = forward ? seekAfter(p.ts, idx[2 * k], start) : searchAfter(p.ts, start, 0);
      const to = forward ? seekAfter(p.ts, Math.max(from, idx[2 * k + 1]), end) : searchAfter(p.ts, end, from);
      idx[2 * k] = from;
      idx[2 * k + 1] = to;
      if (to <= from) continue;
      count += to - from;
      visit(s, p, from, to);
    }
    this.countSamples(count);
  }

  subqueryWindow(sq: SubqueryExpr, t: number): { start: number; end: number; step: number } {
    const end = this.referenceTime(t, sq.at, sq.offset);
    const step = sq.step ? this.durationMs(sq.step) : this.params.subqueryStepMs;
    if (step <= 0) throw executionError('zero or negative query resolution step widths are not accepted');
    return { start: end - this.durationMs(sq.range), end, step };
  }

  subquery(sq: SubqueryExpr, t: number): RangeSeries[] {
    const { start, end, step } = this.subqueryWindow(sq, t);
    // Inner steps are aligned to multiples of the step, so every outer step sees the same grid.
    let first = Math.floor(start / step) * step;
    if (first <= start) first += step;
    const byKey = new Map<string, { labels: Labels; ts: number[]; vs: number[]; dropName?: boolean }>();
    for (let ts = first; ts <= end; ts += step) {
      const v = this.eval(sq.expr, ts);
      const samples: Sample[] =
        v.type === 'scalar' ? [{ labels: {}, value: v.value }] : v.type === 'vector' ? v.samples : [];
      for (const s of samples) {
        const key = labelsKey(s.labels);
        let series = byKey.get(key);
        if (!series) byKey.set(key, (series = { labels: s.labels, ts: [], vs: [], dropName: s.dropName }));
        series.ts.push(ts);
        series.vs.push(s.value);
      }
    }
    return [...byKey.values()];
  }
}

/**
 * Prefix counts of counter resets over a series' points (see PreparedSeries.resets). A series
 * without a reset (most counters over hours) gets a shared array of zeros instead of its own:
 * the callers only read it.
 */
export function resetCounts(s: PreparedSeries): Uint32Array {
  if (s.resets) return s.resets;
  const vs = (s.points ??= withoutStaleMarkers(s)).vs;
  let first = 1;
  while (first < vs.length && !(vs[first] < vs[first - 1])) first++;
  if (first >= vs.length) return (s.resets = zeros(vs.length));
  const out = new Uint32Array(vs.length);
  for (let i = first; i < vs.length; i++) out[i] = out[i - 1] + (vs[i] < vs[i - 1] ? 1 : 0);
  return (s.resets = out);
}

let ZEROS = new Uint32Array(1024);

/** At least `n` zeros, shared: never written to. */
function zeros(n: number): Uint32Array {
  if (ZEROS.length < n) ZEROS = new Uint32Array(Math.max(n, 2 * ZEROS.length));
  return ZEROS;
}

/**
 * A value that is a staleness marker. The NaN test comes first and inline: nearly every value
 * is a number, and isStaleNaN is reached through the contracts package's re-export (a getter
 * per call in the compiled module, measured as a third of these loops' time).
 */
export function isStale(v: number): boolean {
  return v !== v && isStaleNaN(v);
}

function withoutStaleMarkers(s: PreparedSeries): { ts: Float64Array; vs: Float64Array } {
  const src = s.vs;
  let stale = 0;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (v !== v && isStaleNaN(v)) stale++;
  }
  if (stale === 0) return { ts: s.ts, vs: src };
  const ts = new Float64Array(s.ts.length - stale);
  const vs = new Float64Array(ts.length);
  let j = 0;
  for (let i = 0; i < src.length; i++) {
    if (isStale(src[i])) continue;
    ts[j] = s.ts[i];
    vs[j++] = src[i];
  }
  return { ts, vs };
}
