/**
 * Signatures of the PromQL functions: argument types, how many trailing arguments are optional,
 * and the return type. The parser checks calls against this table exactly as Prometheus does.
 */
import type { ValueType } from './ast';

export interface FunctionSignature {
  args: ValueType[];
  /** 0: exact arity; n > 0: up to n trailing arguments may be left out; -1: the last one repeats. */
  variadic: number;
  returns: ValueType;
  /** Only native histograms make sense as input; the test runner skips these. */
  nativeHistogram?: boolean;
}

const v: ValueType = 'vector';
const m: ValueType = 'matrix';
const s: ValueType = 'scalar';
const str: ValueType = 'string';

const vectorFn = (): FunctionSignature => ({ args: [v], variadic: 0, returns: v });
const rangeFn = (): FunctionSignature => ({ args: [m], variadic: 0, returns: v });
const dateFn = (): FunctionSignature => ({ args: [v], variadic: 1, returns: v });
const histogramFn = (): FunctionSignature => ({ args: [v], variadic: 0, returns: v, nativeHistogram: true });

export const FUNCTIONS: Record<string, FunctionSignature> = {
  abs: vectorFn(),
  acos: vectorFn(),
  acosh: vectorFn(),
  asin: vectorFn(),
  asinh: vectorFn(),
  atan: vectorFn(),
  atanh: vectorFn(),
  ceil: vectorFn(),
  cos: vectorFn(),
  cosh: vectorFn(),
  deg: vectorFn(),
  exp: vectorFn(),
  floor: vectorFn(),
  ln: vectorFn(),
  log10: vectorFn(),
  log2: vectorFn(),
  rad: vectorFn(),
  sgn: vectorFn(),
  sin: vectorFn(),
  sinh: vectorFn(),
  sqrt: vectorFn(),
  tan: vectorFn(),
  tanh: vectorFn(),
  timestamp: vectorFn(),
  sort: vectorFn(),
  sort_desc: vectorFn(),
  absent: vectorFn(),
  absent_over_time: rangeFn(),
  present_over_time: rangeFn(),
  avg_over_time: rangeFn(),
  count_over_time: rangeFn(),
  last_over_time: rangeFn(),
  first_over_time: rangeFn(),
  max_over_time: rangeFn(),
  min_over_time: rangeFn(),
  sum_over_time: rangeFn(),
  stddev_over_time: rangeFn(),
  stdvar_over_time: rangeFn(),
  mad_over_time: rangeFn(),
  ts_of_max_over_time: rangeFn(),
  ts_of_min_over_time: rangeFn(),
  ts_of_last_over_time: rangeFn(),
  ts_of_first_over_time: rangeFn(),
  quantile_over_time: { args: [s, m], variadic: 0, returns: v },
  rate: rangeFn(),
  irate: rangeFn(),
  increase: rangeFn(),
  delta: rangeFn(),
  idelta: rangeFn(),
  deriv: rangeFn(),
  resets: rangeFn(),
  changes: rangeFn(),
  predict_linear: { args: [m, s], variadic: 0, returns: v },
  double_exponential_smoothing: { args: [m, s, s], variadic: 0, returns: v },
  clamp: { args: [v, s, s], variadic: 0, returns: v },
  clamp_max: { args: [v, s], variadic: 0, returns: v },
  clamp_min: { args: [v, s], variadic: 0, returns: v },
  round: { args: [v, s], variadic: 1, returns: v },
  day_of_month: dateFn(),
  day_of_week: dateFn(),
  day_of_year: dateFn(),
  days_in_month: dateFn(),
  hour: dateFn(),
  minute: dateFn(),
  month: dateFn(),
  year: dateFn(),
  histogram_quantile: { args: [s, v], variadic: 0, returns: v },
  label_replace: { args: [v, str, str, str, str], variadic: 0, returns: v },
  label_join: { args: [v, str, str, str], variadic: -1, returns: v },
  sort_by_label: { args: [v, str], variadic: -1, returns: v },
  sort_by_label_desc: { args: [v, str], variadic: -1, returns: v },
  scalar: { args: [v], variadic: 0, returns: s },
  vector: { args: [s], variadic: 0, returns: v },
  time: { args: [], variadic: 0, returns: s },
  pi: { args: [], variadic: 0, returns: s },
  // Experimental: the query's own step, range, start and end, as scalars in seconds.
  step: { args: [], variadic: 0, returns: s },
  range: { args: [], variadic: 0, returns: s },
  start: { args: [], variadic: 0, returns: s },
  end: { args: [], variadic: 0, returns: s },
  info: { args: [v, v], variadic: 1, returns: v },
  histogram_avg: histogramFn(),
  histogram_count: histogramFn(),
  histogram_sum: histogramFn(),
  histogram_stddev: histogramFn(),
  histogram_stdvar: histogramFn(),
  histogram_fraction: { args: [s, s, v], variadic: 0, returns: v, nativeHistogram: true },
  histogram_quantiles: { args: [v, str, s], variadic: -1, returns: v, nativeHistogram: true },
};
