/**
 * Range functions answered from rollups (see `Queryable.selectRollups`): when every window of a
 * range query is a whole number of rollup buckets — the step and the range are multiples of the
 * resolution and the windows end on bucket boundaries — a window is exactly the union of the
 * buckets ending inside it, and the functions below need only the buckets' partial aggregates.
 * The answer is the raw samples' answer to float rounding (the sums are added in another order);
 * rollups.int-spec.ts in the collector compares the two on generated data.
 *
 * Only calls the step-by-step evaluation never reaches qualify: not under a subquery (whose
 * steps are off the grid), no `@`, no extended range selector. The engine selects rollups
 * instead of samples for such a selector; range-batch.ts evaluates the call from them.
 */
import type { RollupSeriesData } from '@arcwatch/contracts';
import type { Call, Expr, MatrixSelector, VectorSelector } from './ast';
import type { Evaluator } from './evaluator';
import { warnPossibleNonCounter } from './functions';
import { kahanInc } from './math-helpers';
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
      default:
        // selectors read raw samples; a subquery evaluates off the grid
        return;
    }
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
  fill(r: number, values: Float64Array, present: Uint8Array, base: number): void;
}

/** The call `call` (one of ROLLUP_FUNCTIONS over `ms`) over the step grid, from rollups. */
export function rollupCallSource(
  ev: Evaluator,
  call: Call,
  ms: MatrixSelector,
  series: readonly RollupSeriesData[],
): RollupRowSource {
  const { startMs, endMs, stepMs } = ev.params;
  const steps = Math.floor((endMs - startMs) / stepMs) + 1;
  const starts = new Float64Array(steps);
  const ends = new Float64Array(steps);
  for (let k = 0; k < steps; k++) {
    const w = ev.matrixWindow(ms, startMs + k * stepMs);
    starts[k] = w.start;
    ends[k] = w.end;
  }
  const counts = new Float64Array(steps);
  const fn = call.func;
  const ctx = { ev, call, t: startMs };
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
  switch (fn) {
    case 'count_over_time':
      return n;
    case 'present_over_time':
      return 1;
    case 'sum_over_time':
    case 'avg_over_time': {
      let sum = 0;
      let c = 0;
      for (let i = from; i < to; i++) [sum, c] = kahanInc(s.sum[i], sum, c);
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
      const last = to - 1;
      let result = s.lastV[last] - s.firstV[from];
      if (isCounter) {
        for (let i = from; i < to; i++) {
          result += s.corr[i];
          if (i > from && s.firstV[i] < s.lastV[i - 1]) result += s.lastV[i - 1];
        }
      }
      return extrapolate(
        result,
        n,
        s.firstTs[from],
        s.firstV[from],
        s.lastTs[last],
        rangeStart,
        rangeEnd,
        isCounter,
        fn === 'rate',
      );
    }
  }
}
