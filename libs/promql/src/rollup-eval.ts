/**
 * Range functions answered from rollups (see `Queryable.selectRollups`): when every window of a
 * range query is a whole number of rollup buckets — the step and the range are multiples of the
 * resolution and the windows end on bucket boundaries — a window is exactly the union of the
 * buckets ending inside it, and the functions below need only the buckets' partial aggregates.
 * The answer is the raw samples' answer to float rounding (the sums are added in another order);
 * rollups.int-spec.ts in the collector compares the two on generated data.
 *
 * Instant selectors qualify too where the steps are bucket ends and the lookback fits in a
 * bucket: the selected sample is then the bucket's last one (rollupSelectorSource).
 *
 * Only nodes the step-by-step evaluation never reaches qualify: not under a subquery (whose
 * steps are off the grid), no `@`, no extended range selector. The engine selects rollups
 * instead of samples for such a selector; range-batch.ts evaluates the node from them.
 */
import type { RollupSeriesData } from '@arcwatch/contracts';
import type { Call, Expr, MatrixSelector, VectorSelector } from './ast';
import type { Evaluator } from './evaluator';
import { warnPossibleNonCounter } from './functions';
import { extrapolate } from './range-functions';

export const ROLLUP_FUNCTIONS: ReadonlySet<string> = new Set([
  'avg_over_time',
  'sum_over_time',
  'min_over_time',
  'max_over_time',
  'count_over_time',
  'present_over_time',
  'rate',
  'increase',
  'delta',
]);

/** A selector to be read from rollups, the resolution, and the span of bucket ends it needs. */
export interface RollupPlan {
  resolutionMs: number;
  min: number;
  max: number;
}

const mod = (a: number, b: number): number => ((a % b) + b) % b;

/**
 * The selectors of a range query that can be read from rollups, each with the coarsest of the
 * offered resolutions its call fits (fewest partials to fold).
 */
export function planRollups(
  ev: Evaluator,
  root: Expr,
  resolutionsMs: readonly number[],
): Map<VectorSelector, RollupPlan> {
  const plans = new Map<VectorSelector, RollupPlan>();
  const { startMs, endMs, stepMs } = ev.params;
  if (!(stepMs > 0) || resolutionsMs.length === 0) return plans;
  const coarsestFirst = [...resolutionsMs].sort((a, b) => b - a);
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case 'call': {
        const ms = e.args[0];
        if (ROLLUP_FUNCTIONS.has(e.func) && e.args.length === 1 && ms?.kind === 'matrixSelector') {
          const plan = planFor(ms);
          if (plan) {
            plans.set(ms.selector, plan);
            return;
          }
        }
        e.args.forEach(visit);
        return;
      }
      case 'aggregate':
        if (e.param) visit(e.param);
        visit(e.expr);
        return;
      case 'binary':
        visit(e.lhs);
        visit(e.rhs);
        return;
      case 'paren':
      case 'unary':
        visit(e.expr);
        return;
      case 'vectorSelector': {
        const plan = selectorPlan(e);
        if (plan) plans.set(e, plan);
        return;
      }
      default:
        // other range selectors read raw samples; a subquery evaluates off the grid
        return;
    }
  };
  // An instant selector at a bucket end picks the bucket's last sample when the lookback fits in
  // the bucket: an older sample would be out of the lookback anyway.
  const selectorPlan = (sel: VectorSelector): RollupPlan | undefined => {
    if (sel.at) return undefined;
    const first = ev.referenceTime(startMs, sel.at, sel.offset);
    const last = ev.referenceTime(endMs, sel.at, sel.offset);
    const lookback = ev.params.lookbackMs;
    const res = coarsestFirst.find((r) => stepMs % r === 0 && mod(first, r) === 0 && lookback > 0 && lookback <= r);
    return res === undefined ? undefined : { resolutionMs: res, min: first - res, max: last };
  };
  const planFor = (ms: MatrixSelector): RollupPlan | undefined => {
    if (ms.extension || ms.selector.at) return undefined;
    const first = ev.matrixWindow(ms, startMs);
    const last = ev.matrixWindow(ms, endMs);
    const range = first.end - first.start;
    const res = coarsestFirst.find((r) => stepMs % r === 0 && range > 0 && range % r === 0 && mod(first.end, r) === 0);
    return res === undefined ? undefined : { resolutionMs: res, min: first.start, max: last.end };
  };
  visit(root);
  return plans;
}

/** Row-source shape of range-batch.ts: fills one series' values over the step grid. */
export interface RollupRowSource {
  labels: RollupSeriesData['labels'][];
  dropName: boolean;
  steps: number;
  counts: Float64Array;
  fill(r: number, values: Float64Array, present: Uint8Array, base: number, ts: Float64Array | undefined): void;
}

/**
 * An instant selector over the step grid from rollups: at each reference time (a bucket end) the
 * last sample of the bucket ending there, unless a stale marker follows it or it is older than
 * the lookback.
 */
export function rollupSelectorSource(
  ev: Evaluator,
  sel: VectorSelector,
  series: readonly RollupSeriesData[],
): RollupRowSource {
  const { lookbackMs } = ev.params;
  const refs = ev.gridReferences(sel);
  const steps = refs.length;
  const counts = new Float64Array(steps);
  return {
    labels: series.map((s) => s.labels),
    dropName: false,
    steps,
    counts,
    fill(r, values, present, base, ts) {
      ev.checkDeadline();
      const s = series[r];
      const n = s.ends.length;
      let j = 0;
      for (let k = 0; k < steps; k++) {
        const ref = refs[k];
        present[base + k] = 0;
        while (j < n && s.ends[j] < ref) j++;
        // the bucket ending at ref may come as two partials (two chunks): the later holds the last sample
        let p = -1;
        for (let q = j; q < n && s.ends[q] === ref; q++) p = q;
        if (p < 0 || s.count[p] === 0 || s.staleAfter[p] === s.staleAfter[p] || s.lastTs[p] <= ref - lookbackMs)
          continue;
        values[base + k] = s.lastV[p];
        if (ts) ts[base + k] = s.lastTs[p];
        present[base + k] = 1;
        counts[k]++;
      }
    },
  };
}

/** The call `call` (one of ROLLUP_FUNCTIONS over `ms`) over the step grid, from rollups. */
export function rollupCallSource(
  ev: Evaluator,
  call: Call,
  ms: MatrixSelector,
  series: readonly RollupSeriesData[],
): RollupRowSource {
  const { starts, ends } = ev.gridWindows(ms);
  const steps = starts.length;
  const counts = new Float64Array(steps);
  const fn = call.func;
  const ctx = { ev, call, t: ev.params.startMs };
  return {
    labels: series.map((s) => s.labels),
    dropName: true,
    steps,
    counts,
    fill(r, values, present, base) {
      ev.checkDeadline();
      const s = series[r];
      let from = 0;
      let to = 0;
      let any = false;
      for (let k = 0; k < steps; k++) {
        present[base + k] = 0;
        while (from < s.ends.length && s.ends[from] <= starts[k]) from++;
        if (to < from) to = from;
        while (to < s.ends.length && s.ends[to] <= ends[k]) to++;
        if (to <= from) continue;
        let n = 0;
        for (let i = from; i < to; i++) n += s.count[i];
        counts[k] += n;
        const v = windowValue(fn, s, from, to, n, starts[k], ends[k]);
        if (v === undefined) continue;
        values[base + k] = v;
        present[base + k] = 1;
        any = true;
      }
      if (any && (fn === 'rate' || fn === 'increase')) warnPossibleNonCounter(ctx, s.labels, call.args[0]);
    },
  };
}

/** One function's value over the partials [from, to) holding `n` samples. */
function windowValue(
  fn: string,
  s: RollupSeriesData,
  from: number,
  to: number,
  n: number,
  rangeStart: number,
  rangeEnd: number,
): number | undefined {
  // partials of stale markers only (kept for instant selectors) hold no sample
  if (n === 0) return undefined;
  switch (fn) {
    case 'count_over_time':
      return n;
    case 'present_over_time':
      return 1;
    case 'sum_over_time':
    case 'avg_over_time': {
      // kahanInc's arithmetic written out, without its [sum, c] pair: one array per partial and
      // step (q3: 1,000 series × 168 steps)
      let sum = 0;
      let c = 0;
      for (let i = from; i < to; i++) {
        const inc = s.sum[i];
        const t = sum + inc;
        if (!Number.isFinite(t)) c = 0;
        else if (Math.abs(sum) >= Math.abs(inc)) c = c + (sum - t + inc);
        else c = c + (inc - t + sum);
        sum = t;
      }
      const total = Number.isFinite(sum) ? sum + c : sum;
      return fn === 'sum_over_time' ? total : total / n;
    }
    case 'min_over_time':
    case 'max_over_time': {
      const lower = fn === 'min_over_time';
      const col = lower ? s.min : s.max;
      let m = col[from];
      for (let i = from + 1; i < to; i++) {
        const v = col[i];
        if ((lower ? v < m : v > m) || (Number.isNaN(m) && !Number.isNaN(v))) m = v;
      }
      return m;
    }
    default: {
      // rate, increase, delta
      if (n < 2) return undefined;
      const isCounter = fn !== 'delta';
      let first = from;
      while (s.count[first] === 0) first++;
      let last = to - 1;
      while (s.count[last] === 0) last--;
      let result = s.lastV[last] - s.firstV[first];
      if (isCounter) {
        let prev = -1;
        for (let i = first; i <= last; i++) {
          if (s.count[i] === 0) continue;
          result += s.corr[i];
          if (prev >= 0 && s.firstV[i] < s.lastV[prev]) result += s.lastV[prev];
          prev = i;
        }
      }
      return extrapolate(
        result,
        n,
        s.firstTs[first],
        s.firstV[first],
        s.lastTs[last],
        rangeStart,
        rangeEnd,
        isCounter,
        fn === 'rate',
      );
    }
  }
}
