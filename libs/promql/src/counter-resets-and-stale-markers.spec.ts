import { STALE_NAN } from '@arcwatch/contracts';
import { isStale, resetCounts, type PreparedSeries } from './evaluator';
import { MemoryQueryable } from './memory-queryable';
import { PromqlEngine } from './engine';

/**
 * Values with 'stale' for a staleness marker, written into a Float64Array one by one: a plain
 * number array may canonicalise NaN payloads and lose the marker.
 */
function values(list: Array<number | 'stale'>): Float64Array {
  const out = new Float64Array(list.length);
  list.forEach((v, i) => (out[i] = v === 'stale' ? STALE_NAN : v));
  return out;
}

const series = (list: Array<number | 'stale'>): PreparedSeries => ({
  labels: { __name__: 'c' },
  ts: Float64Array.from(list, (_, i) => i * 15_000),
  vs: values(list),
});

describe('counter resets and staleness markers', () => {
  it('counts resets over the points left after the staleness markers', () => {
    // the marker sits between 5 and 2: without it, 5 → 2 is the reset
    const s = series([1, 3, 5, 'stale', 2, 4, 1, 1]);
    expect(Array.from(resetCounts(s))).toEqual([0, 0, 0, 1, 1, 2, 2]);
    expect(Array.from(s.points!.vs)).toEqual([1, 3, 5, 2, 4, 1, 1]);
  });

  it('gives a counter without a reset zeros (shared) and keeps its own arrays as points', () => {
    const a = series([1, 1, 2, 3, 5, 8]);
    const b = series([0, 10, 20]);
    expect(Array.from(resetCounts(a).subarray(0, 6))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(resetCounts(b)).toBe(resetCounts(a));
    expect(a.points!.vs).toBe(a.vs);
  });

  it('tells a staleness marker from other NaNs', () => {
    expect([isStale(STALE_NAN), isStale(NaN), isStale(0), isStale(Infinity)]).toEqual([true, false, false, false]);
  });

  it('rates a counter across a reset and a staleness marker as the step-by-step path does', async () => {
    const q = new MemoryQueryable();
    values([0, 30, 60, 90, 10, 40, 'stale', 70, 100]).forEach((v, i) =>
      q.add({ __name__: 'req_total', job: 'a' }, i * 15_000, v),
    );
    const engine = new PromqlEngine(q);
    const grid = await engine.evaluateRange('rate(req_total[1m])', 60_000, 120_000, 15_000);
    const steps = await Promise.all(
      [60_000, 75_000, 90_000, 105_000, 120_000].map((t) => engine.evaluateInstant('rate(req_total[1m])', t)),
    );
    const byStep = steps.map((r) => (r.result.type === 'vector' ? r.result.samples[0]?.value : undefined));
    expect(grid.result.type === 'matrix' && grid.result.series[0]!.values).toEqual(byStep);
    // 75 s: points 60, 90, 10, 40 in (15 s, 75 s], a reset after 90: increase 70 over 45 s, extrapolated to 60 s
    expect(byStep[1]).toBeCloseTo(70 / 45, 12);
    // 120 s: points 40, 70, 100 in (60 s, 120 s] (the marker at 90 s left out): 60 over 45 s, to 60 s
    expect(byStep[4]).toBeCloseTo(60 / 45, 12);
  });

  it('rates over windows far apart (a step of many scrape intervals) as the step-by-step path does', async () => {
    const q = new MemoryQueryable();
    // 15 s scrapes for 3 h, a reset every 50 minutes
    for (let i = 0; i < 720; i++) q.add({ __name__: 'req_total', job: 'b' }, i * 15_000, (i % 200) * 7.5);
    const engine = new PromqlEngine(q);
    for (const expr of ['rate(req_total[10m])', 'increase(req_total[40m])', 'delta(req_total[5m])']) {
      const grid = await engine.evaluateRange(expr, 600_000, 10_800_000, 1_800_000);
      const byStep: number[] = [];
      for (let t = 600_000; t <= 10_800_000; t += 1_800_000) {
        const r = await engine.evaluateInstant(expr, t);
        if (r.result.type === 'vector') byStep.push(r.result.samples[0]!.value);
      }
      expect(grid.result.type === 'matrix' && grid.result.series[0]!.values).toEqual(byStep);
      expect(byStep).toHaveLength(6);
    }
  });
});
