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
function parseLe(text: string | undefined): number | undefined {
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
function ensureMonotonic(buckets: Bucket[]): boolean {
  let forced = false;
  let prev = buckets[0].count;
  for (let i = 1; i < buckets.length; i++) {
    const cur = buckets[i].count;
    if (cur === prev) continue;
    if (almostEqual(prev, cur, 1e-12)) {
      buckets[i].count = prev;
      continue;
    }
    if (cur < prev) {
      buckets[i].count = prev;
      forced = true;
      continue;
    }
    prev = cur;
  }
  return forced;
}

export function bucketQuantile(q: number, input: Bucket[]): { value: number; forcedMonotonic: boolean } {
  if (Number.isNaN(q)) return { value: NaN, forcedMonotonic: false };
  if (q < 0) return { value: -Infinity, forcedMonotonic: false };
  if (q > 1) return { value: Infinity, forcedMonotonic: false };
  const sorted = [...input].sort((a, b) => a.upperBound - b.upperBound);
  if (sorted.length === 0 || sorted[sorted.length - 1].upperBound !== Infinity) return { value: NaN, forcedMonotonic: false };
  // Series that differ only in the spelling of `le` ("1" vs "1.0") are the same bucket.
  const buckets: Bucket[] = [];
  for (const b of sorted) {
    const last = buckets[buckets.length - 1];
    if (last && last.upperBound === b.upperBound) last.count += b.count;
    else buckets.push({ ...b });
  }
  const forcedMonotonic = ensureMonotonic(buckets);
  if (buckets.length < 2) return { value: NaN, forcedMonotonic };
  const observations = buckets[buckets.length - 1].count;
  if (observations === 0 || Number.isNaN(observations)) return { value: NaN, forcedMonotonic };
  let rank = q * observations;
  let b = buckets.findIndex((x) => x.count >= rank);
  if (b < 0) b = buckets.length - 1;
  if (b === buckets.length - 1) return { value: buckets[buckets.length - 2].upperBound, forcedMonotonic };
  if (b === 0 && buckets[0].upperBound <= 0) return { value: buckets[0].upperBound, forcedMonotonic };
  let start = 0;
  const end = buckets[b].upperBound;
  let count = buckets[b].count;
  if (b > 0) {
    start = buckets[b - 1].upperBound;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  return { value: start + (end - start) * (rank / count), forcedMonotonic };
}

export function histogramQuantile(ctx: CallContext): Value {
  const { ev, call, t } = ctx;
  const q = ev.evalScalar(call.args[0], t);
  const samples = ev.evalVector(call.args[1], t);
  if (!(q >= 0 && q <= 1)) ev.notes.warn(`quantile value should be between 0 and 1, got ${formatG(q)}`, call.args[0].pos);
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
