/**
 * Functions over range vectors (`rate`, `*_over_time`, ...). Each computes one value from the
 * points of one series inside the window, or nothing when the window has too few points.
 */
import { MeanAccumulator, VarianceAccumulator, kahanSum, linearRegression, quantile } from './math-helpers';
import { executionError } from './errors';

export interface RangeWindow {
  ts: ArrayLike<number>;
  vs: ArrayLike<number>;
  /** The window is (rangeStart, rangeEnd], in ms. */
  rangeStart: number;
  rangeEnd: number;
  /** Evaluation time of the call (predict_linear extrapolates from here). */
  t: number;
  /** The scalar arguments, in call order. */
  params: number[];
}

export interface RangeFunction {
  compute(w: RangeWindow): number | undefined;
  /** last_over_time and first_over_time return the input sample, so they keep the name. */
  keepName?: boolean;
}

function extrapolatedRate(w: RangeWindow, isCounter: boolean, isRate: boolean): number | undefined {
  return extrapolatedRateIn(w.ts, w.vs, 0, w.ts.length, w.rangeStart, w.rangeEnd, isCounter, isRate, true);
}

/**
 * rate/increase/delta over the points [from, to) of a series. `mayReset` false promises that no
 * point in the range is lower than the one before, which skips the counter-reset scan.
 */
export function extrapolatedRateIn(
  ts: ArrayLike<number>,
  vs: ArrayLike<number>,
  from: number,
  to: number,
  rangeStart: number,
  rangeEnd: number,
  isCounter: boolean,
  isRate: boolean,
  mayReset: boolean,
): number | undefined {
  const n = to - from;
  if (n < 2) return undefined;
  const last = to - 1;
  let result = vs[last] - vs[from];
  if (isCounter && mayReset) {
    for (let i = from + 1; i < to; i++) if (vs[i] < vs[i - 1]) result += vs[i - 1];
  }
  return extrapolate(result, n, ts[from], vs[from], ts[last], rangeStart, rangeEnd, isCounter, isRate);
}

/**
 * The extrapolation step of rate/increase/delta: `result` is the last value minus the first
 * (plus the counter-reset correction) over `n` ≥ 2 points from (firstTs, firstV) to lastTs.
 * Rollups (rollup-eval.ts) call it with the same figures taken from their partials.
 */
export function extrapolate(
  result: number,
  n: number,
  firstTs: number,
  firstV: number,
  lastTs: number,
  rangeStart: number,
  rangeEnd: number,
  isCounter: boolean,
  isRate: boolean,
): number {
  const rangeSeconds = (rangeEnd - rangeStart) / 1000;
  let toStart = (firstTs - rangeStart) / 1000;
  let toEnd = (rangeEnd - lastTs) / 1000;
  const sampled = (lastTs - firstTs) / 1000;
  const avgGap = sampled / (n - 1);
  // Extrapolate to a window edge only when a sample is missing there by at most ~one interval;
  // otherwise assume the series starts or ends inside the window, half an interval out.
  const threshold = avgGap * 1.1;
  if (toStart >= threshold) toStart = avgGap / 2;
  if (isCounter && result > 0 && firstV >= 0) {
    // A counter cannot go below zero: do not extrapolate past the point where it would be 0.
    const toZero = sampled * (firstV / result);
    if (toZero < toStart) toStart = toZero;
  }
  if (toEnd >= threshold) toEnd = avgGap / 2;
  let factor = (sampled + toStart + toEnd) / sampled;
  if (isRate) factor /= rangeSeconds;
  return result * factor;
}

/**
 * Range functions that can work on an index range of a series' points directly (range queries
 * evaluate them per series and step; views would cost more than the function). `resets` is the
 * number of counter resets inside [from, to).
 */
export type IndexedRangeFunction = (
  ts: Float64Array,
  vs: Float64Array,
  from: number,
  to: number,
  resets: number,
  rangeStart: number,
  rangeEnd: number,
) => number | undefined;

export const INDEXED_RANGE_FUNCTIONS: Record<string, IndexedRangeFunction> = {
  rate: (ts, vs, from, to, resets, rs, re) => extrapolatedRateIn(ts, vs, from, to, rs, re, true, true, resets > 0),
  increase: (ts, vs, from, to, resets, rs, re) => extrapolatedRateIn(ts, vs, from, to, rs, re, true, false, resets > 0),
  delta: (ts, vs, from, to, _resets, rs, re) => extrapolatedRateIn(ts, vs, from, to, rs, re, false, false, false),
};

function instantDelta(w: RangeWindow, isRate: boolean): number | undefined {
  const n = w.ts.length;
  if (n < 2) return undefined;
  const last = w.vs[n - 1];
  const prev = w.vs[n - 2];
  const result = isRate && last < prev ? last : last - prev;
  if (!isRate) return result;
  const gap = w.ts[n - 1] - w.ts[n - 2];
  if (gap === 0) return undefined;
  return result / (gap / 1000);
}

function extremeIndex(vs: ArrayLike<number>, better: (a: number, b: number) => boolean, preferLast: boolean): number {
  let idx = 0;
  for (let i = 1; i < vs.length; i++) {
    const cur = vs[i];
    const best = vs[idx];
    if (better(cur, best) || (Number.isNaN(best) && !Number.isNaN(cur)) || (preferLast && cur === best)) idx = i;
  }
  return idx;
}

function values(w: RangeWindow): number[] {
  return Array.from(w.vs);
}

function checkSmoothingFactor(name: string, v: number): void {
  if (!(v > 0 && v < 1))
    throw executionError(
      `invalid ${name} factor. Expected: 0 < ${name === 'smoothing' ? 'sf' : 'tf'} < 1, got: ${v.toFixed(6)}`,
    );
}

export const RANGE_FUNCTIONS: Record<string, RangeFunction> = {
  rate: { compute: (w) => extrapolatedRate(w, true, true) },
  increase: { compute: (w) => extrapolatedRate(w, true, false) },
  delta: { compute: (w) => extrapolatedRate(w, false, false) },
  irate: { compute: (w) => instantDelta(w, true) },
  idelta: { compute: (w) => instantDelta(w, false) },
  deriv: {
    compute: (w) => (w.ts.length < 2 ? undefined : linearRegression(w.ts, w.vs, w.ts[0]).slope),
  },
  predict_linear: {
    compute: (w) => {
      if (w.ts.length < 2) return undefined;
      const { slope, intercept } = linearRegression(w.ts, w.vs, w.t);
      return slope * w.params[0] + intercept;
    },
  },
  double_exponential_smoothing: {
    compute: (w) => {
      const [sf, tf] = w.params;
      checkSmoothingFactor('smoothing', sf);
      checkSmoothingFactor('trend', tf);
      const n = w.vs.length;
      if (n < 2) return undefined;
      let s0 = 0;
      let s1 = w.vs[0];
      let trend = w.vs[1] - w.vs[0];
      for (let i = 1; i < n; i++) {
        if (i > 1) trend = tf * (s1 - s0) + (1 - tf) * trend;
        const next = sf * w.vs[i] + (1 - sf) * (s1 + trend);
        s0 = s1;
        s1 = next;
      }
      return s1;
    },
  },
  resets: {
    compute: (w) => {
      let n = 0;
      for (let i = 1; i < w.vs.length; i++) if (w.vs[i] < w.vs[i - 1]) n++;
      return n;
    },
  },
  changes: {
    compute: (w) => {
      let n = 0;
      for (let i = 1; i < w.vs.length; i++) {
        const a = w.vs[i - 1];
        const b = w.vs[i];
        if (a !== b && !(Number.isNaN(a) && Number.isNaN(b))) n++;
      }
      return n;
    },
  },
  avg_over_time: {
    compute: (w) => {
      const acc = new MeanAccumulator();
      for (let i = 0; i < w.vs.length; i++) acc.add(w.vs[i]);
      return acc.value();
    },
  },
  sum_over_time: { compute: (w) => kahanSum(w.vs) },
  count_over_time: { compute: (w) => w.vs.length },
  present_over_time: { compute: () => 1 },
  min_over_time: { compute: (w) => w.vs[extremeIndex(w.vs, (a, b) => a < b, false)] },
  max_over_time: { compute: (w) => w.vs[extremeIndex(w.vs, (a, b) => a > b, false)] },
  ts_of_min_over_time: { compute: (w) => w.ts[extremeIndex(w.vs, (a, b) => a < b, true)] / 1000 },
  ts_of_max_over_time: { compute: (w) => w.ts[extremeIndex(w.vs, (a, b) => a > b, true)] / 1000 },
  ts_of_last_over_time: { compute: (w) => w.ts[w.ts.length - 1] / 1000 },
  ts_of_first_over_time: { compute: (w) => w.ts[0] / 1000 },
  last_over_time: { compute: (w) => w.vs[w.vs.length - 1], keepName: true },
  first_over_time: { compute: (w) => w.vs[0], keepName: true },
  stddev_over_time: {
    compute: (w) => {
      const acc = new VarianceAccumulator();
      for (let i = 0; i < w.vs.length; i++) acc.add(w.vs[i]);
      return Math.sqrt(acc.variance());
    },
  },
  stdvar_over_time: {
    compute: (w) => {
      const acc = new VarianceAccumulator();
      for (let i = 0; i < w.vs.length; i++) acc.add(w.vs[i]);
      return acc.variance();
    },
  },
  quantile_over_time: { compute: (w) => quantile(w.params[0], w.vs) },
  mad_over_time: {
    compute: (w) => {
      const vs = values(w);
      if (vs.some(Number.isNaN)) return NaN;
      const median = quantile(0.5, vs);
      return quantile(
        0.5,
        vs.map((v) => Math.abs(v - median)),
      );
    },
  },
};
