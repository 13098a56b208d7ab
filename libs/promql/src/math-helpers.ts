/** Numerically careful building blocks shared by functions and aggregations. */

/** One Kahan–Neumaier step: returns the new sum and compensation. */
export function kahanInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (!Number.isFinite(t)) return [t, 0];
  if (Math.abs(sum) >= Math.abs(inc)) return [t, c + ((sum - t) + inc)];
  return [t, c + ((inc - t) + sum)];
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

/**
 * The φ-quantile of values (interpolated between closest ranks), as Prometheus computes it.
 * NaN counts as the smallest value.
 */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...values].sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b));
  const n = sorted.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return sorted[lower] * (1 - weight) + sorted[upper] * weight;
}

/** Least-squares fit of values over seconds relative to interceptMs. */
export function linearRegression(ts: ArrayLike<number>, vs: ArrayLike<number>, interceptMs: number): { slope: number; intercept: number } {
  let n = 0;
  let sumX = 0, cX = 0, sumY = 0, cY = 0, sumXY = 0, cXY = 0, sumX2 = 0, cX2 = 0;
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
