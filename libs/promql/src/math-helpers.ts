/** Numerically careful building blocks shared by functions and aggregations. */

/** One Kahan–Neumaier step: returns the new sum and compensation. */
export function kahanInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (!Number.isFinite(t)) return [t, 0];
  if (Math.abs(sum) >= Math.abs(inc)) return [t, c + (sum - t + inc)];
  return [t, c + (inc - t + sum)];
}

export function kahanSum(values: ArrayLike<number>): number {
  let sum = 0;
  let c = 0;
  for (let i = 0; i < values.length; i++) [sum, c] = kahanInc(values[i], sum, c);
  return Number.isFinite(sum) ? sum + c : sum;
}

/**
 * Mean that sums with compensation while the sum stays finite and switches to an incremental
 * mean once it would overflow, so averaging huge values does not end up as Inf.
 */
export class MeanAccumulator {
  private count = 0;
  private sum = 0;
  private c = 0;
  private mean = 0;
  private incremental = false;

  /** An accumulator that has already added `count` values summing to `sum` + `c` (compensated, finite so far). */
  static resume(count: number, sum: number, c: number): MeanAccumulator {
    const acc = new MeanAccumulator();
    acc.count = count;
    acc.sum = sum;
    acc.c = c;
    return acc;
  }

  add(v: number): void {
    this.count++;
    if (!this.incremental) {
      const [s, c] = kahanInc(v, this.sum, this.c);
      if (this.count === 1 || Number.isFinite(s)) {
        this.sum = s;
        this.c = c;
        return;
      }
      this.incremental = true;
      this.mean = this.sum / (this.count - 1);
      this.c /= this.count - 1;
    }
    if (!Number.isFinite(this.mean) && !Number.isNaN(this.mean)) {
      // An infinite mean stays as it is unless the new value is NaN or the opposite infinity.
      if (Number.isNaN(v)) {
        this.mean = NaN;
        return;
      }
      if (!Number.isFinite(v) && v > 0 !== this.mean > 0) {
        this.mean = NaN;
        return;
      }
      return;
    }
    const corrected = this.mean + this.c;
    [this.mean, this.c] = kahanInc(v / this.count - corrected / this.count, this.mean, this.c);
  }

  value(): number {
    if (this.incremental) return this.mean + this.c;
    if (!Number.isFinite(this.sum)) return this.sum / this.count;
    return this.sum / this.count + this.c / this.count;
  }
}

/** Population variance by Welford's method with compensated sums. */
export class VarianceAccumulator {
  private count = 0;
  private mean = 0;
  private cMean = 0;
  private aux = 0;
  private cAux = 0;

  add(v: number): void {
    this.count++;
    const delta = v - (this.mean + this.cMean);
    [this.mean, this.cMean] = kahanInc(delta / this.count, this.mean, this.cMean);
    [this.aux, this.cAux] = kahanInc(delta * (v - (this.mean + this.cMean)), this.aux, this.cAux);
  }

  variance(): number {
    return (this.aux + this.cAux) / this.count;
  }
}

/** NaN orders below every number (Prometheus's quantile ordering); NaNs are equal to each other. */
function before(a: number, b: number): boolean {
  return a !== a ? b === b : a < b;
}

/**
 * Moves the k-th smallest of a[left..right] to a[k], smaller ones before it and the rest after
 * (Hoare partitioning around a median of three, iterated on the side that holds k).
 */
function selectKth(a: Float64Array, left: number, right: number, k: number): void {
  while (right > left) {
    const mid = (left + right) >>> 1;
    if (before(a[mid], a[left])) swap(a, mid, left);
    if (before(a[right], a[left])) swap(a, right, left);
    if (before(a[right], a[mid])) swap(a, right, mid);
    const pivot = a[mid];
    let i = left;
    let j = right;
    while (i <= j) {
      while (before(a[i], pivot)) i++;
      while (before(pivot, a[j])) j--;
      if (i <= j) swap(a, i++, j--);
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

/** Reused by every quantile: range queries ask for one per series and step. */
let scratch = new Float64Array(64);

/**
 * The φ-quantile of values (interpolated between closest ranks), as Prometheus computes it.
 * NaN counts as the smallest value. The two ranks it needs are found by selection on a scratch
 * copy, not a sort: same values, O(n) instead of O(n log n) and no array per call. (Where the
 * values hold both -0 and +0 the sign of a zero result may differ from a sort's; Prometheus's
 * own unstable sort leaves that open too.)
 */
export function quantile(q: number, values: ArrayLike<number>): number {
  return quantileIn(q, values, 0, values.length);
}

/** quantile() of values[from..to), without a view or copy of the range. */
export function quantileIn(q: number, values: ArrayLike<number>, from: number, to: number): number {
  const n = to - from;
  if (n <= 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (n > scratch.length) scratch = new Float64Array(Math.max(n, 2 * scratch.length));
  const a = scratch;
  for (let i = 0; i < n; i++) a[i] = values[from + i];
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  selectKth(a, 0, n - 1, lower);
  const low = a[lower];
  let high = low;
  if (upper !== lower) {
    // everything after `lower` is at or above it: the next rank is their smallest
    high = a[upper];
    for (let i = upper + 1; i < n; i++) if (before(a[i], high)) high = a[i];
  }
  return low * (1 - weight) + high * weight;
}

/** Least-squares fit of values over seconds relative to interceptMs. */
export function linearRegression(
  ts: ArrayLike<number>,
  vs: ArrayLike<number>,
  interceptMs: number,
): { slope: number; intercept: number } {
  let n = 0;
  let sumX = 0,
    cX = 0,
    sumY = 0,
    cY = 0,
    sumXY = 0,
    cXY = 0,
    sumX2 = 0,
    cX2 = 0;
  let constY = true;
  const initY = vs[0];
  for (let i = 0; i < ts.length; i++) {
    if (constY && i > 0 && vs[i] !== initY) constY = false;
    n++;
    const x = (ts[i] - interceptMs) / 1000;
    [sumX, cX] = kahanInc(x, sumX, cX);
    [sumY, cY] = kahanInc(vs[i], sumY, cY);
    [sumXY, cXY] = kahanInc(x * vs[i], sumXY, cXY);
    [sumX2, cX2] = kahanInc(x * x, sumX2, cX2);
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return { slope: NaN, intercept: NaN };
    return { slope: 0, intercept: initY };
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  return { slope, intercept: sumY / n - (slope * sumX) / n };
}

/** Relative float comparison with a tolerance (Prometheus's `almost.Equal`). */
export function almostEqual(a: number, b: number, epsilon: number): boolean {
  if (a === b) return true;
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  const minNormal = 2.2250738585072014e-308;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < minNormal) return diff < epsilon * minNormal;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}
