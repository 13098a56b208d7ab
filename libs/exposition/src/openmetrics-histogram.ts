import type { Labels } from '@arcwatch/contracts';
import { parseNumber } from './numbers';
import type { Sample } from './types';

export interface TrackedSample {
  sample: Sample;
  /** Sample name minus the family name: `_bucket`, `_sum`, … */
  suffix: string;
  timestamp: number | undefined;
  line: number;
}

export interface HistogramProblem {
  line: number;
  message: string;
}

interface Run {
  key: string;
  timestamp: number | undefined;
  lastBound: number | undefined;
  lastBucketValue: number;
  lastLine: number;
  count: number | undefined;
  hasSum: boolean;
  hasGsum: boolean;
  negativeBucket: boolean;
  negativeGsum: boolean;
}

/**
 * The structure of classic (gauge) histograms, per label set and timestamp: buckets in
 * increasing `le` with cumulative (non-decreasing) counts ending at `+Inf`; `_count` equal to the
 * `+Inf` bucket and present exactly when `_sum`/`_gsum` is; no `_sum` when a bucket bound is
 * negative (the sum would not be a counter); a negative `_gsum` only with negative buckets.
 */
export function checkHistogram(samples: readonly TrackedSample[]): HistogramProblem[] {
  const problems: HistogramProblem[] = [];
  let run: Run | undefined;
  const finishRun = (r: Run): void => {
    const at = (message: string): void => {
      problems.push({ line: r.lastLine, message });
    };
    if (r.lastBound !== Infinity) at('+Inf bucket missing');
    if (r.count !== undefined && r.count !== r.lastBucketValue) at('_count does not match the +Inf bucket');
    if (r.hasSum && r.count === undefined) at('_sum without _count');
    if (r.hasGsum && r.count === undefined) at('_gsum without _gcount');
    if (!(r.hasSum || r.hasGsum) && r.count !== undefined) at('_count without _sum');
    if (r.negativeBucket && r.hasSum) at('_sum with negative bucket bounds');
    if (!r.negativeBucket && r.negativeGsum) at('negative _gsum without negative buckets');
  };
  for (const t of samples) {
    if (t.suffix === '') continue;
    const key = runKey(t);
    if (!run || run.key !== key || run.timestamp !== t.timestamp) {
      if (run) finishRun(run);
      run = {
        key,
        timestamp: t.timestamp,
        lastBound: undefined,
        lastBucketValue: 0,
        lastLine: t.line,
        count: undefined,
        hasSum: false,
        hasGsum: false,
        negativeBucket: false,
        negativeGsum: false,
      };
    }
    run.lastLine = t.line;
    const v = t.sample.value;
    if (t.suffix === '_bucket') {
      const le = t.sample.labels.le;
      const bound = le === undefined ? undefined : parseNumber(le, 0, le.length);
      if (bound === undefined || bound !== bound) continue; // already reported on its line
      if (bound < 0) run.negativeBucket = true;
      if (run.lastBound !== undefined && bound <= run.lastBound)
        problems.push({ line: t.line, message: 'buckets out of order' });
      if (v < run.lastBucketValue) problems.push({ line: t.line, message: 'bucket counts are not cumulative' });
      run.lastBound = bound;
      run.lastBucketValue = v;
    } else if (t.suffix === '_count' || t.suffix === '_gcount') {
      run.count = v;
    } else if (t.suffix === '_sum') {
      run.hasSum = true;
    } else if (t.suffix === '_gsum') {
      run.hasGsum = true;
      if (v < 0) run.negativeGsum = true;
    }
  }
  if (run) finishRun(run);
  return problems;
}

function runKey(t: TrackedSample): string {
  return labelKey(t.sample.labels, t.suffix === '_bucket' ? 'le' : '');
}

/** Keys by label object and skipped name: label objects are shared, so most lookups hit. */
const keyCache = new WeakMap<Labels, Map<string, string>>();
/** The same for the whole label set (nothing skipped), the key of every gauge and counter sample. */
const wholeKeyCache = new WeakMap<Labels, string>();

export function labelKey(labels: Labels, skip: string): string {
  if (skip === '') {
    const whole = wholeKeyCache.get(labels);
    if (whole !== undefined) return whole;
    const key = keyOf(labels, '');
    wholeKeyCache.set(labels, key);
    return key;
  }
  let byskip = keyCache.get(labels);
  const known = byskip?.get(skip);
  if (known !== undefined) return known;
  const key = keyOf(labels, skip);
  if (byskip === undefined) keyCache.set(labels, (byskip = new Map()));
  byskip.set(skip, key);
  return key;
}

function keyOf(labels: Labels, skip: string): string {
  const names = Object.keys(labels)
    .filter((n) => n !== skip)
    .sort();
  let key = '';
  for (const n of names) key += n + '\u0000' + labels[n] + '\u0001';
  return key;
}
