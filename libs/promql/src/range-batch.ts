/**
 * Range queries over the whole step grid at once, series by series. Evaluating step by step
 * touches every series at one point per step, which for thousands of series is a cache miss per
 * series and step plus a Sample object each; Prometheus evaluates selectors and range functions
 * series by series for the same reason. A node's value at time t depends on t only, so for the
 * common shapes (selectors, rate-like functions and quantile_over_time over range selectors,
 * sum/avg/min/max/count/group over those, and histogram_quantile over any of them) the values of every step of the query grid are computed in one pass, kept
 * in typed arrays, and handed out as an instant vector when the step-by-step evaluation asks for
 * a grid step. Anything else, and every time off the grid (subquery steps), goes the usual way.
 */
import type { Labels } from '@arcwatch/contracts';
import { isStaleNaN } from '@arcwatch/contracts';
import type { AggregateExpr, Call, Expr, MatrixSelector, VectorSelector } from './ast';
import { resetCounts, searchAfter, seekAfter, type Evaluator, type PreparedSeries } from './evaluator';
import { formatG, warnPossibleNonCounter } from './functions';
import { INDEXED_RANGE_FUNCTIONS, type IndexedRangeFunction } from './range-functions';
import { histogramQuantileRows } from './range-batch-histogram';
import { MeanAccumulator, quantileIn } from './math-helpers';
import { executionError } from './errors';
import {
  METRIC_NAME,
  keyOn,
  keyWithout,
  labelsKey,
  pickLabels,
  dropLabels,
  withoutName,
  type Sample,
  type Value,
} from './values';

/** Values of rows (series) × steps, row-major: index r * steps + k. */
export interface GridRows {
  labels: Labels[];
  dropName: boolean;
  steps: number;
  values: Float64Array;
  present: Uint8Array;
  /** Timestamps of the selected samples (vector selectors only; timestamp() reads them). */
  ts?: Float64Array;
  /** Samples the step loads (selectors), for the max-samples limit. */
  counts?: Float64Array;
  /** Per row and step, the inner row that made the group appear first (aggregations), for output order. */
  first?: Int32Array;
}

const BATCHED_AGGREGATIONS = new Set(['sum', 'avg', 'min', 'max', 'count', 'group']);
/** Rows × steps above this go step by step: the typed arrays would cost more than they save. */
const MAX_GRID_CELLS = 16_000_000;

/** The value of `e` at a grid step, or undefined when `e` or `t` is not for this path. */
export function gridValue(ev: Evaluator, e: Expr, t: number): Value | undefined {
  const { startMs, endMs, stepMs } = ev.params;
  const off = t - startMs;
  if (!(stepMs > 0) || t > endMs || off < 0 || off % stepMs !== 0) return undefined;
  const rows = gridRows(ev, e);
  return rows ? { type: 'vector', samples: samplesAt(ev, rows, off / stepMs) } : undefined;
}

/**
 * The whole result of a range query whose expression is on the grid path, series by series,
 * without an instant vector per step: what the step loop in engine.ts would collect (name
 * removal applied, series whose labels become equal merged, or rejected where two share a step).
 */
export function gridMatrix(
  ev: Evaluator,
  e: Expr,
): { labels: Labels; timestamps: number[]; values: number[] }[] | undefined {
  const { startMs, stepMs } = ev.params;
  if (!(stepMs > 0)) return undefined;
  const rows = gridRows(ev, e);
  if (!rows) return undefined;
  const { steps, present, values } = rows;
  if (rows.counts) {
    for (let k = 0; k < steps; k++) {
      ev.resetSampleCount();
      ev.countSamples(rows.counts[k]);
    }
  }
  const byKey = new Map<string, { labels: Labels; rows: number[] }>();
  for (let r = 0; r < rows.labels.length; r++) {
    if (!present.subarray(r * steps, (r + 1) * steps).includes(1)) continue;
    const labels = rows.dropName ? withoutName(rows.labels[r]) : rows.labels[r];
    const key = labelsKey(labels);
    const entry = byKey.get(key);
    if (entry) entry.rows.push(r);
    else byKey.set(key, { labels, rows: [r] });
  }
  const out: { labels: Labels; timestamps: number[]; values: number[] }[] = [];
  for (const { labels, rows: members } of byKey.values()) {
    const timestamps: number[] = [];
    const vs: number[] = [];
    for (let k = 0; k < steps; k++) {
      let found = -1;
      for (const r of members) {
        if (!present[r * steps + k]) continue;
        if (found >= 0) throw executionError('vector cannot contain metrics with the same labelset');
        found = r;
      }
      if (found < 0) continue;
      timestamps.push(startMs + k * stepMs);
      vs.push(values[found * steps + k]);
    }
    out.push({ labels, timestamps, values: vs });
  }
  return out;
}

function gridRows(ev: Evaluator, e: Expr): GridRows | undefined {
  const memo = ev.gridMemo;
  if (memo.has(e)) return memo.get(e) ?? undefined;
  let rows: GridRows | undefined;
  if (e.kind === 'vectorSelector') rows = fits(ev, ev.preparedSeries(e).length) ? selectorRows(ev, e) : undefined;
  else if (e.kind === 'call') rows = e.func === 'histogram_quantile' ? histogramRows(ev, e) : rangeCallRows(ev, e);
  else if (e.kind === 'aggregate') rows = aggregateRows(ev, e);
  else if (e.kind === 'paren') rows = gridRows(ev, e.expr);
  memo.set(e, rows ?? null);
  return rows;
}

function fits(ev: Evaluator, rows: number): boolean {
  return rows * stepCount(ev) <= MAX_GRID_CELLS;
}

function stepCount(ev: Evaluator): number {
  return Math.floor((ev.params.endMs - ev.params.startMs) / ev.params.stepMs) + 1;
}

function selectorRows(ev: Evaluator, sel: VectorSelector): GridRows {
  const series = ev.preparedSeries(sel);
  const steps = stepCount(ev);
  const { startMs, stepMs, lookbackMs } = ev.params;
  const refs = new Float64Array(steps);
  for (let k = 0; k < steps; k++) refs[k] = ev.referenceTime(startMs + k * stepMs, sel.at, sel.offset);
  const values = new Float64Array(series.length * steps);
  const ts = new Float64Array(series.length * steps);
  const present = new Uint8Array(series.length * steps);
  const counts = new Float64Array(steps);
  series.forEach((s, r) => {
    ev.checkDeadline();
    let next = 0;
    for (let k = 0; k < steps; k++) {
      const ref = refs[k];
      next = k > 0 && ref >= refs[k - 1] ? seekAfter(s.ts, next, ref) : searchAfter(s.ts, ref, 0);
      const i = next - 1;
      if (i < 0 || s.ts[i] <= ref - lookbackMs || isStaleNaN(s.vs[i])) continue;
      const at = r * steps + k;
      values[at] = s.vs[i];
      ts[at] = s.ts[i];
      present[at] = 1;
      counts[k]++;
    }
  });
  return { labels: series.map((s) => s.labels), dropName: false, steps, values, present, ts, counts };
}

function histogramRows(ev: Evaluator, call: Call): GridRows | undefined {
  const q = unwrap(call.args[0]);
  if (q.kind !== 'number') return undefined;
  const inner = gridRows(ev, unwrap(call.args[1]));
  return inner ? histogramQuantileRows(ev, call, q.value, inner) : undefined;
}

/** The per-window function of a call on the grid path and its range argument, if it has one. */
function indexedCall(call: Call): { fn: IndexedRangeFunction; arg: Expr; q?: number } | undefined {
  if (call.func === 'quantile_over_time' && call.args.length === 2) {
    // a literal quantile only: one computed per step would have to be evaluated step by step
    const q = unwrap(call.args[0]);
    if (q.kind !== 'number') return undefined;
    const phi = q.value;
    return { fn: (_ts, vs, from, to) => quantileIn(phi, vs, from, to), arg: unwrap(call.args[1]), q: phi };
  }
  if (!Object.hasOwn(INDEXED_RANGE_FUNCTIONS, call.func) || call.args.length !== 1) return undefined;
  return { fn: INDEXED_RANGE_FUNCTIONS[call.func], arg: unwrap(call.args[0]) };
}

function rangeCallRows(ev: Evaluator, call: Call): GridRows | undefined {
  const indexed = indexedCall(call);
  const arg = indexed?.arg;
  if (!indexed || arg?.kind !== 'matrixSelector' || arg.extension) return undefined;
  const { fn } = indexed;
  const ms: MatrixSelector = arg;
  const series = ev.preparedSeries(ms.selector);
  if (!fits(ev, series.length)) return undefined;
  // the step-by-step path warns at every step, before selecting
  if (indexed.q !== undefined && !(indexed.q >= 0 && indexed.q <= 1))
    ev.notes.warn(`quantile value should be between 0 and 1, got ${formatG(indexed.q)}`, call.args[0].pos);
  const checkCounter = call.func === 'rate' || call.func === 'increase';
  const ctx = { ev, call, t: ev.params.startMs };
  const steps = stepCount(ev);
  const starts = new Float64Array(steps);
  const ends = new Float64Array(steps);
  for (let k = 0; k < steps; k++) {
    const w = ev.matrixWindow(ms, ev.params.startMs + k * ev.params.stepMs);
    starts[k] = w.start;
    ends[k] = w.end;
  }
  const values = new Float64Array(series.length * steps);
  const present = new Uint8Array(series.length * steps);
  const counts = new Float64Array(steps);
  series.forEach((s: PreparedSeries, r) => {
    ev.checkDeadline();
    const p = ev.pointsOf(s);
    const resets = resetCounts(s);
    let from = 0;
    let to = 0;
    let any = false;
    for (let k = 0; k < steps; k++) {
      const forward = k > 0 && ends[k] >= ends[k - 1] && starts[k] >= starts[k - 1];
      from = forward ? seekAfter(p.ts, from, starts[k]) : searchAfter(p.ts, starts[k], 0);
      to = forward ? seekAfter(p.ts, Math.max(from, to), ends[k]) : searchAfter(p.ts, ends[k], from);
      if (to <= from) continue;
      counts[k] += to - from;
      const v = fn(p.ts, p.vs, from, to, resets[to - 1] - resets[from], starts[k], ends[k]);
      if (v === undefined) continue;
      values[r * steps + k] = v;
      present[r * steps + k] = 1;
      any = true;
    }
    // the step-by-step path notes this for any series with a value at some step
    if (any && checkCounter) warnPossibleNonCounter(ctx, s.labels, call.args[0]);
  });
  return { labels: series.map((s) => s.labels), dropName: true, steps, values, present, counts };
}

function aggregateRows(ev: Evaluator, e: AggregateExpr): GridRows | undefined {
  if (!BATCHED_AGGREGATIONS.has(e.op) || e.param) return undefined;
  const inner = gridRows(ev, unwrap(e.expr));
  // an inner aggregation hands out its groups in per-step order, not row order
  if (!inner || inner.first) return undefined;
  const { steps } = inner;
  const without = new Set([...e.grouping, METRIC_NAME]);
  const groupIds = new Map<string, number>();
  const labels: Labels[] = [];
  const groupOf = inner.labels.map((l) => {
    // A name already marked for removal takes no part in grouping.
    const input = inner.dropName ? withoutName(l) : l;
    const key = e.without ? keyWithout(input, without) : keyOn(input, e.grouping);
    let g = groupIds.get(key);
    if (g === undefined) {
      groupIds.set(key, (g = labels.length));
      labels.push(e.without ? dropLabels(input, without) : pickLabels(input, e.grouping));
    }
    return g;
  });
  const n = labels.length * steps;
  const acc: Fold = {
    values: new Float64Array(n),
    comp: new Float64Array(n),
    counts: new Float64Array(n),
    present: new Uint8Array(n),
    first: new Int32Array(n),
    overflowed: new Map(),
  };
  const fold = FOLDS[e.op as BatchedOp];
  // Row by row in input order, so every group folds its members in the order the step-by-step
  // path would (compensated sums depend on it).
  for (let r = 0; r < inner.labels.length; r++) {
    ev.checkDeadline();
    fold(acc, inner.values, inner.present, r * steps, groupOf[r] * steps, steps, r);
  }
  const { values, comp, counts, present, first, overflowed } = acc;
  for (let at = 0; at < n; at++) {
    if (!present[at]) continue;
    if (e.op === 'sum') {
      if (Number.isFinite(values[at])) values[at] += comp[at];
    } else if (e.op === 'avg') {
      // MeanAccumulator.value() for a mean that never overflowed
      const m = overflowed.get(at);
      values[at] = m
        ? m.value()
        : Number.isFinite(values[at])
          ? values[at] / counts[at] + comp[at] / counts[at]
          : values[at] / counts[at];
    }
  }
  return { labels, dropName: false, steps, values, present, first, counts: inner.counts };
}

type BatchedOp = 'sum' | 'avg' | 'min' | 'max' | 'count' | 'group';

/** Per group and step: the running value, its compensation and member count (avg). */
interface Fold {
  values: Float64Array;
  comp: Float64Array;
  counts: Float64Array;
  present: Uint8Array;
  first: Int32Array;
  /** avg cells whose compensated sum overflowed: an incremental mean from there on. */
  overflowed: Map<number, MeanAccumulator>;
}

/** Folds one inner row (cells from..from+steps) into its group's cells (at..at+steps). */
type FoldRow = (
  f: Fold,
  inValues: Float64Array,
  inPresent: Uint8Array,
  from: number,
  at: number,
  steps: number,
  row: number,
) => void;

/** kahanInc(v, values[at], comp[at]) in place, without the tuple. */
function kahanAt(values: Float64Array, comp: Float64Array, at: number, v: number): void {
  const sum = values[at];
  const t = sum + v;
  if (!Number.isFinite(t)) {
    values[at] = t;
    comp[at] = 0;
  } else if (Math.abs(sum) >= Math.abs(v)) {
    values[at] = t;
    comp[at] += sum - t + v;
  } else {
    values[at] = t;
    comp[at] += v - t + sum;
  }
}

function foldWith(step: (f: Fold, at: number, v: number, seen: boolean) => void): FoldRow {
  return (f, inValues, inPresent, from, at, steps, row) => {
    const { present, first } = f;
    for (let k = 0; k < steps; k++) {
      if (!inPresent[from + k]) continue;
      const cell = at + k;
      const seen = present[cell] === 1;
      if (!seen) {
        present[cell] = 1;
        first[cell] = row;
      }
      step(f, cell, inValues[from + k], seen);
    }
  };
}

const FOLDS: Record<BatchedOp, FoldRow> = {
  // cells start at 0 with no compensation, as the step-by-step path's first kahanInc
  sum: foldWith((f, at, v) => kahanAt(f.values, f.comp, at, v)),
  avg: foldWith((f, at, v) => {
    const n = ++f.counts[at];
    const m = f.overflowed.get(at);
    if (m) m.add(v);
    else if (n === 1 || Number.isFinite(f.values[at] + v)) kahanAt(f.values, f.comp, at, v);
    else {
      const resumed = MeanAccumulator.resume(n - 1, f.values[at], f.comp[at]);
      resumed.add(v);
      f.overflowed.set(at, resumed);
    }
  }),
  min: foldWith((f, at, v, seen) => {
    if (!seen || v < f.values[at] || Number.isNaN(f.values[at])) f.values[at] = v;
  }),
  max: foldWith((f, at, v, seen) => {
    if (!seen || v > f.values[at] || Number.isNaN(f.values[at])) f.values[at] = v;
  }),
  count: foldWith((f, at) => void f.values[at]++),
  group: foldWith((f, at) => void (f.values[at] = 1)),
};

/** The instant vector at step k, in the order the step-by-step path produces. */
function samplesAt(ev: Evaluator, rows: GridRows, k: number): Sample[] {
  if (rows.counts) ev.countSamples(rows.counts[k]);
  const { steps } = rows;
  const order: number[] = [];
  for (let r = 0; r < rows.labels.length; r++) if (rows.present[r * steps + k]) order.push(r);
  // groups come out in the order their first member appears in the input at this step
  if (rows.first) order.sort((a, b) => rows.first![a * steps + k] - rows.first![b * steps + k]);
  const out: Sample[] = new Array<Sample>(order.length);
  for (let j = 0; j < order.length; j++) {
    const r = order[j];
    const at = r * steps + k;
    const s: Sample = rows.ts
      ? { labels: rows.labels[r], value: rows.values[at], ts: rows.ts[at] }
      : { labels: rows.labels[r], value: rows.values[at] };
    if (rows.dropName) s.dropName = true;
    out[j] = s;
  }
  return out;
}

function unwrap(e: Expr): Expr {
  return e.kind === 'paren' ? unwrap(e.expr) : e;
}
