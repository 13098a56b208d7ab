/**
 * Range queries over the whole step grid at once, series by series. Evaluating step by step
 * touches every series at one point per step, which for thousands of series is a cache miss per
 * series and step plus a Sample object each; Prometheus evaluates selectors and range functions
 * series by series for the same reason. A node's value at time t depends on t only, so for the
 * common shapes (selectors, rate-like functions over range selectors, and sum/avg/min/max/count/
 * group over those) the values of every step of the query grid are computed in one pass, kept
 * in typed arrays, and handed out as an instant vector when the step-by-step evaluation asks for
 * a grid step. Anything else, and every time off the grid (subquery steps), goes the usual way.
 */
import type { Labels } from '@arcwatch/contracts';
import { isStaleNaN } from '@arcwatch/contracts';
import type { AggregateExpr, Call, Expr, MatrixSelector, VectorSelector } from './ast';
import { resetCounts, searchAfter, seekAfter, type Evaluator, type PreparedSeries } from './evaluator';
import { warnPossibleNonCounter } from './functions';
import { INDEXED_RANGE_FUNCTIONS } from './range-functions';
import { MeanAccumulator, kahanInc } from './math-helpers';
import { METRIC_NAME, keyOn, keyWithout, pickLabels, dropLabels, withoutName, type Sample, type Value } from './values';

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

function gridRows(ev: Evaluator, e: Expr): GridRows | undefined {
  const memo = ev.gridMemo;
  if (memo.has(e)) return memo.get(e) ?? undefined;
  let rows: GridRows | undefined;
  if (e.kind === 'vectorSelector') rows = fits(ev, ev.preparedSeries(e).length) ? selectorRows(ev, e) : undefined;
  else if (e.kind === 'call') rows = rangeCallRows(ev, e);
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

function rangeCallRows(ev: Evaluator, call: Call): GridRows | undefined {
  const fn = INDEXED_RANGE_FUNCTIONS[call.func];
  const arg = call.args.length === 1 ? unwrap(call.args[0]) : undefined;
  if (!fn || arg?.kind !== 'matrixSelector' || arg.extension) return undefined;
  const ms: MatrixSelector = arg;
  const series = ev.preparedSeries(ms.selector);
  if (!fits(ev, series.length)) return undefined;
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
  const values = new Float64Array(n);
  const comp = new Float64Array(n);
  const present = new Uint8Array(n);
  const first = new Int32Array(n);
  const means: (MeanAccumulator | undefined)[] = e.op === 'avg' ? new Array<MeanAccumulator | undefined>(n) : [];
  // Row by row in input order, so every group folds its members in the order the step-by-step
  // path would (compensated sums depend on it).
  for (let r = 0; r < inner.labels.length; r++) {
    ev.checkDeadline();
    const base = groupOf[r] * steps;
    for (let k = 0; k < steps; k++) {
      if (!inner.present[r * steps + k]) continue;
      const v = inner.values[r * steps + k];
      const at = base + k;
      const seen = present[at] === 1;
      if (!seen) {
        present[at] = 1;
        first[at] = r;
      }
      switch (e.op) {
        case 'sum':
          [values[at], comp[at]] = kahanInc(v, seen ? values[at] : 0, seen ? comp[at] : 0);
          break;
        case 'avg':
          (means[at] ??= new MeanAccumulator()).add(v);
          break;
        case 'min':
          if (!seen || v < values[at] || Number.isNaN(values[at])) values[at] = v;
          break;
        case 'max':
          if (!seen || v > values[at] || Number.isNaN(values[at])) values[at] = v;
          break;
        case 'count':
          values[at] = seen ? values[at] + 1 : 1;
          break;
        case 'group':
          values[at] = 1;
          break;
      }
    }
  }
  for (let at = 0; at < n; at++) {
    if (!present[at]) continue;
    if (e.op === 'sum' && Number.isFinite(values[at])) values[at] += comp[at];
    else if (e.op === 'avg') values[at] = means[at]!.value();
  }
  return { labels, dropName: false, steps, values, present, first, counts: inner.counts };
}

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
    const s: Sample = rows.ts ? { labels: rows.labels[r], value: rows.values[at], ts: rows.ts[at] } : { labels: rows.labels[r], value: rows.values[at] };
    if (rows.dropName) s.dropName = true;
    out[j] = s;
  }
  return out;
}

function unwrap(e: Expr): Expr {
  return e.kind === 'paren' ? unwrap(e.expr) : e;
}
