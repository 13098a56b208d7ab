/**
 * A DDSketch-style quantile sketch (Masson, Rim, Lee, VLDB 2019): values go into logarithmic
 * buckets of ratio γ = (1+α)/(1−α), so every quantile it returns is within relative error α of
 * a true value of the data. Two sketches merge by adding bucket counts, exactly: the sketch of
 * an hour is the merge of its minutes, in any order. Plain data (JSON-safe), pure functions.
 */
export interface LatencySketch {
  /** Relative accuracy α. Sketches merge only with the same α. */
  alpha: number;
  count: number;
  sum: number;
  /** 0 while empty: the sketch is stored as JSON, which has no Infinity. */
  min: number;
  max: number;
  /** Values too small to index (≤ MIN_INDEXABLE), including zero. */
  zeroCount: number;
  /** Bucket index → count; bucket i holds values in (γ^(i−1), γ^i]. */
  bins: Record<string, number>;
}

export const DEFAULT_ALPHA = 0.01;
/** At most this many buckets; beyond, the lowest are collapsed (the high quantiles stay exact). */
export const MAX_BINS = 2048;
const MIN_INDEXABLE = 1e-9;

export function emptySketch(alpha = DEFAULT_ALPHA): LatencySketch {
  return { alpha, count: 0, sum: 0, min: 0, max: 0, zeroCount: 0, bins: {} };
}

const gammaOf = (alpha: number) => (1 + alpha) / (1 - alpha);

export function addValue(s: LatencySketch, value: number, weight = 1): LatencySketch {
  return addValueInPlace(copySketch(s), value, weight);
}

/** A sketch that shares nothing with `s`, for the in-place functions. */
export function copySketch(s: LatencySketch): LatencySketch {
  return { ...s, bins: { ...s.bins } };
}

/**
 * addValue on a sketch the caller owns (fresh, or from copySketch): changed in place and
 * returned. The same arithmetic in the same order, without a copy of the bins per value.
 */
export function addValueInPlace(s: LatencySketch, value: number, weight = 1): LatencySketch {
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`latency sketch takes finite values ≥ 0, got ${value}`);
  let newBin = false;
  if (value <= MIN_INDEXABLE) s.zeroCount += weight;
  else {
    const i = String(Math.ceil(Math.log(value) / Math.log(gammaOf(s.alpha))));
    const before = s.bins[i];
    newBin = before === undefined;
    s.bins[i] = (before ?? 0) + weight;
  }
  s.min = s.count === 0 ? value : Math.min(s.min, value);
  s.max = s.count === 0 ? value : Math.max(s.max, value);
  s.count += weight;
  s.sum += value * weight;
  // Only a new bin can take the sketch past MAX_BINS: the bins are not counted otherwise (counting
  // them made an array of their keys for every value added).
  if (newBin) {
    const collapsed = collapse(s);
    if (collapsed !== s) s.bins = collapsed.bins;
  }
  return s;
}

export function mergeSketches(a: LatencySketch, b: LatencySketch): LatencySketch {
  if (a.alpha !== b.alpha) throw new RangeError(`cannot merge sketches of accuracy ${a.alpha} and ${b.alpha}`);
  const bins = { ...a.bins };
  for (const [i, c] of Object.entries(b.bins)) bins[i] = (bins[i] ?? 0) + c;
  return collapse({
    alpha: a.alpha,
    count: a.count + b.count,
    sum: a.sum + b.sum,
    min: a.count === 0 ? b.min : b.count === 0 ? a.min : Math.min(a.min, b.min),
    max: a.count === 0 ? b.max : b.count === 0 ? a.max : Math.max(a.max, b.max),
    zeroCount: a.zeroCount + b.zeroCount,
    bins,
  });
}

/** The q-quantile (0 ≤ q ≤ 1) within relative error α; NaN for an empty sketch. */
export function quantile(s: LatencySketch, q: number): number {
  if (s.count === 0) return NaN;
  if (q <= 0) return s.min;
  if (q >= 1) return s.max;
  const rank = q * (s.count - 1);
  if (rank < s.zeroCount) return 0;
  let seen = s.zeroCount;
  const gamma = gammaOf(s.alpha);
  for (const i of sortedIndexes(s)) {
    seen += s.bins[String(i)];
    if (seen > rank) {
      // The bucket's midpoint in the relative sense, clamped to what was really seen.
      const estimate = (2 * Math.pow(gamma, i)) / (gamma + 1);
      return Math.min(Math.max(estimate, s.min), s.max);
    }
  }
  return s.max;
}

function sortedIndexes(s: LatencySketch): number[] {
  return Object.keys(s.bins)
    .map(Number)
    .sort((x, y) => x - y);
}

function collapse(s: LatencySketch): LatencySketch {
  // Counted before sorting: this runs on every value added, and is almost always a no-op.
  if (Object.keys(s.bins).length <= MAX_BINS) return s;
  const idx = sortedIndexes(s);
  const bins = { ...s.bins };
  const keep = idx[idx.length - MAX_BINS];
  let folded = 0;
  for (const i of idx.slice(0, idx.length - MAX_BINS)) {
    folded += bins[String(i)];
    delete bins[String(i)];
  }
  bins[String(keep)] += folded;
  return { ...s, bins };
}
