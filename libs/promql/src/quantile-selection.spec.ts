import { PromqlEngine } from './engine';
import { quantile } from './math-helpers';
import { MemoryQueryable } from './memory-queryable';

/** The previous implementation: a sorted copy per call. */
function sortedQuantile(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...values].sort((a, b) =>
    Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b,
  );
  const n = sorted.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return sorted[lower]! * (1 - weight) + sorted[upper]! * weight;
}

/** Deterministic values with duplicates, NaN and infinities mixed in. */
function values(seed: number, n: number): number[] {
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: n }, () => {
    const r = next();
    if (r < 0.05) return NaN;
    if (r < 0.08) return Infinity;
    if (r < 0.1) return -Infinity;
    if (r < 0.3) return Math.floor(next() * 4); // duplicates
    return (next() - 0.5) * 1e6;
  });
}

describe('quantile by selection', () => {
  const qs = [0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.99, 1, -0.5, 1.5, NaN];
  it('gives the values of sorting, for every size up to 60 and many quantiles', () => {
    for (let n = 0; n <= 60; n++) {
      for (let seed = 1; seed <= 8; seed++) {
        const vs = values(seed * 7919 + n, n);
        for (const q of qs) expect(quantile(q, vs)).toBe(sortedQuantile(q, vs));
      }
    }
  });

  it('reads typed arrays and leaves its input alone', () => {
    const vs = Float64Array.from(values(42, 300));
    const copy = vs.slice();
    expect(quantile(0.9, vs)).toBe(sortedQuantile(0.9, Array.from(vs)));
    expect(vs).toEqual(copy);
  });

  it('keeps all-NaN and all-equal inputs', () => {
    expect(quantile(0.5, [NaN, NaN, NaN])).toBeNaN();
    expect(quantile(0.3, [2, 2, 2, 2])).toBe(2);
    expect(quantile(0.5, [NaN, 1, 2])).toBe(1);
  });

  it('quantile_over_time in a range query matches quantiles of each window', async () => {
    const q = new MemoryQueryable();
    const raw = values(5, 400);
    raw.forEach((v, i) => q.add({ __name__: 'lat', pod: 'a' }, i * 15_000, v));
    const engine = new PromqlEngine(q);
    const r = await engine.evaluateRange('quantile_over_time(0.9, lat[5m])', 300_000, 5_900_000, 60_000);
    if (r.result.type !== 'matrix') throw new Error('expected a matrix');
    const [s] = r.result.series;
    expect(s!.timestamps.length).toBe(94);
    s!.timestamps.forEach((t, i) => {
      // the window (t - 5m, t]
      const window = raw.filter((_, j) => j * 15_000 > t - 300_000 && j * 15_000 <= t);
      expect(s!.values[i]).toBe(sortedQuantile(0.9, window));
    });
  });
});
