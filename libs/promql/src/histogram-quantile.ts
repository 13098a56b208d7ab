/** histogram_quantile() over classic (`le`-labelled) bucket series. */
import type { Labels } from '@arcwatch/contracts';
import type { CallContext } from './functions';
import { formatG } from './functions';
import { almostEqual } from './math-helpers';
import { METRIC_NAME, keyWithout, type Sample, type Value } from './values';

interface Bucket {
  upperBound: number;
  count: number;
}

const WITHOUT_LE_AND_NAME = new Set(['le', METRIC_NAME]);

/** Go's ParseFloat for `le` values: decimal, exponent, hex and Inf/NaN spellings. */
export function parseLe(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t !== text || t === '') return undefined;
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number(t);
  return undefined;
}

/**
 * Cumulative counts must not decrease. Tiny differences from float error are flattened
 * silently; real decreases are flattened too but reported.
 */
function ensureMonotonic(counts: Float64Array, n: number): boolean {
  let forced = false;
  let prev = counts[0];
  for (let i = 1; i < n; i++) {
    const cur = counts[i];
    if (cur === prev) continue;
    if (almostEqual(prev, cur, 1e-12)) {
      counts[i] = prev;
      continue;
    }
    if (cur < prev) {
      counts[i] = prev;
      forced = true;
      continue;
    }
    prev = cur;
  }
  return forced;
}

let scratchBounds = new Float64Array(64);
let scratchCounts = new Float64Array(64);

export function bucketQuantile(q: number, input: Bucket[]): { value: number; forcedMonotonic: boolean } {
  if (Number.isNaN(q)) return { value: NaN, forcedMonotonic: false };
  if (q < 0) return { value: -Infinity, forcedMonotonic: false };
  if (q > 1) return { value: Infinity, forcedMonotonic: false };
  const sorted = [...input].sort((a, b) => a.upperBound - b.upperBound);
  if (sorted.length > scratchBounds.length) {
    scratchBounds = new Float64Array(sorted.length);
    scratchCounts = new Float64Array(sorted.length);
  }
  // Series that differ only in the spelling of `le` ("1" vs "1.0") are the same bucket.
  let n = 0;
  for (const b of sorted) {
    if (n > 0 && scratchBounds[n - 1] === b.upperBound) scratchCounts[n - 1] += b.count;
    else {
      scratchBounds[n] = b.upperBound;
      scratchCounts[n++] = b.count;
    }
  }
  return sortedBucketQuantile(q, scratchBounds, scratchCounts, n);
}

/**
 * bucketQuantile over buckets already sorted by upper bound, each bound once: `bounds[0..n)`
 * and their cumulative `counts` (flattened in place where not monotonic).
 */
export function sortedBucketQuantile(
  q: number,
  bounds: Float64Array,
  counts: Float64Array,
  n: number,
): { value: number; forcedMonotonic: boolean } {
  if (Number.isNaN(q)) return { value: NaN, forcedMonotonic: false };
  if (q < 0) return { value: -Infinity, forcedMonotonic: false };
  if (q > 1) return { value: Infinity, forcedMonotonic: false };
  if (n === 0 || bounds[n - 1] !== Infinity) return { value: NaN, forcedMonotonic: false };
  const forcedMonotonic = ensureMonotonic(counts, n);
  if (n < 2) return { value: NaN, forcedMonotonic };
  const observations = counts[n - 1];
  if (observations === 0 || Number.isNaN(observations)) return { value: NaN, forcedMonotonic };
  let rank = q * observations;
  let b = 0;
  while (b < n && !(counts[b] >= rank)) b++;
  if (b === n) b = n - 1;
  if (b === n - 1) return { value: bounds[n - 2], forcedMonotonic };
  if (b === 0 && bounds[0] <= 0) return { value: bounds[0], forcedMonotonic };
  let start = 0;
  const end = bounds[b];
  let count = counts[b];
  if (b > 0) {
    start = bounds[b - 1];
    count -= counts[b - 1];
    rank -= counts[b - 1];
  }
  return { value: start + (end - start) * (rank / count), forcedMonotonic };
}

export function histogramQuantile(ctx: CallContext): Value {
  const { ev, call, t } = ctx;
  const q = ev.evalScalar(call.args[0], t);
  const samples = ev.evalVector(call.args[1], t);
  if (!(q >= 0 && q <= 1))
    ev.notes.warn(`quantile value should be between 0 and 1, got ${formatG(q)}`, call.args[0].pos);
  const groups = new Map<string, { labels: Labels; buckets: Bucket[]; name: string }>();
  for (const s of samples) {
    const upperBound = parseLe(s.labels.le);
    if (upperBound === undefined) {
      ev.notes.warn(
        `bucket label "le" is missing or has a malformed value of ${JSON.stringify(s.labels.le ?? '')} for metric name ${JSON.stringify(s.labels[METRIC_NAME] ?? '')}`,
        call.args[1].pos,
      );
      continue;
    }
    const key = keyWithout(s.labels, WITHOUT_LE_AND_NAME);
    let g = groups.get(key);
    if (!g) {
      const labels = { ...s.labels };
      delete labels.le;
      delete labels[METRIC_NAME];
      groups.set(key, (g = { labels, buckets: [], name: s.labels[METRIC_NAME] ?? '' }));
    }
    g.buckets.push({ upperBound, count: s.value });
  }
  const out: Sample[] = [];
  for (const g of groups.values()) {
    const { value, forcedMonotonic } = bucketQuantile(q, g.buckets);
    if (forcedMonotonic) {
      ev.notes.info(
        `input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name ${JSON.stringify(g.name)}`,
        call.args[1].pos,
      );
    }
    out.push({ labels: g.labels, value });
  }
  return { type: 'vector', samples: out };
}
