import { PromqlEngine, type RawQueryResult } from './engine';
import { MemoryQueryable } from './memory-queryable';

const S = 1000;
const M = 60 * S;

/**
 * Buckets with what histogram_quantile's grid path must reproduce: a malformed `le`, a model
 * whose buckets are not monotonic (an info), one that starts late, and two counters that differ
 * only in their name (equal once `rate` drops it).
 */
function data(): MemoryQueryable {
  const q = new MemoryQueryable();
  for (let t = 0; t <= 30 * M; t += 15 * S) {
    const s = t / 1000;
    for (const [model, scale] of [
      ['a', 1],
      ['b', 2],
      ['c', 5],
    ] as const) {
      if (model === 'c' && t < 10 * M) continue;
      for (const [le, share] of [
        ['0.1', 0.3],
        ['0.5', 0.7],
        ['1', 0.9],
        ['+Inf', 1],
      ] as const) {
        // model b's 0.5 bucket runs ahead of its 1 bucket: not monotonic
        const f = model === 'b' && le === '0.5' ? 0.95 : share;
        q.add({ __name__: 'ttft_bucket', model, le }, t, s * scale * f);
      }
    }
    if (t >= 20 * M) q.add({ __name__: 'ttft_bucket', model: 'a', le: 'fast' }, t, s);
    if (t < 12 * M) q.add({ __name__: 'x_total', job: 'j' }, t, s);
    else q.add({ __name__: 'y_total', job: 'j' }, t, s);
    q.add({ __name__: 'z_total', job: 'j' }, t, s);
  }
  return q;
}

async function stepwise(
  engine: PromqlEngine,
  expr: string,
  start: number,
  end: number,
  step: number,
): Promise<{ points: Map<string, Map<number, number>>; warnings: Set<string>; infos: Set<string> }> {
  const points = new Map<string, Map<number, number>>();
  const warnings = new Set<string>();
  const infos = new Set<string>();
  for (let t = start; t <= end; t += step) {
    const r = await engine.evaluateInstant(expr, t);
    if (r.result.type !== 'vector') throw new Error(`expected a vector, got ${r.result.type}`);
    r.warnings.forEach((w) => warnings.add(w));
    r.infos.forEach((i) => infos.add(i));
    for (const s of r.result.samples) {
      const key = JSON.stringify(s.labels);
      if (!points.has(key)) points.set(key, new Map());
      points.get(key)!.set(t, s.value);
    }
  }
  return { points, warnings, infos };
}

function asMap(r: RawQueryResult): Map<string, Map<number, number>> {
  if (r.result.type !== 'matrix') throw new Error(`expected a matrix, got ${r.result.type}`);
  return new Map(
    r.result.series.map((s) => [JSON.stringify(s.labels), new Map(s.timestamps.map((t, i) => [t, s.values[i]!]))]),
  );
}

describe('histogram_quantile, quantile_over_time and whole results on the grid path', () => {
  const queries = [
    'histogram_quantile(0.99, sum by (le, model)(rate(ttft_bucket[5m])))',
    'histogram_quantile(0.5, rate(ttft_bucket[5m]))',
    'histogram_quantile((0.25), sum by (le)(rate(ttft_bucket[2m])))',
    'histogram_quantile(1.5, sum by (le, model)(rate(ttft_bucket[5m])))',
    'histogram_quantile(-1, rate(ttft_bucket[5m]))',
    'rate(x_total[1m])',
    'quantile_over_time(0.9, ttft_bucket[3m])',
    'quantile_over_time(-0.5, x_total[2m])',
    'sum by (model)(quantile_over_time((0.5), ttft_bucket[5m]))',
  ];
  it.each(queries)('%s: values, warnings and infos of step-by-step evaluation', async (expr) => {
    const engine = new PromqlEngine(data());
    const [start, end, step] = [2 * M + 5 * S, 30 * M, 30 * S];
    const range = await engine.evaluateRange(expr, start, end, step);
    const expected = await stepwise(engine, expr, start, end, step);
    const got = asMap(range);
    expect([...got.keys()].sort()).toEqual([...expected.points.keys()].sort());
    for (const [key, points] of expected.points) expect([...got.get(key)!]).toEqual([...points]);
    expect(range.warnings).toEqual([...expected.warnings]);
    expect(range.infos).toEqual([...expected.infos]);
  });

  it('names the malformed bucket and the non-monotonic one', async () => {
    const r = await new PromqlEngine(data()).evaluateRange(
      'histogram_quantile(0.9, sum by (le, model)(rate(ttft_bucket[5m])))',
      0,
      30 * M,
      M,
    );
    expect(r.warnings).toEqual([
      'PromQL warning: bucket label "le" is missing or has a malformed value of "fast" for metric name "" (1:25)',
    ]);
    expect(r.infos).toEqual([
      'PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name "" (1:25)',
    ]);
  });

  it('merges series whose labels become equal, and rejects them where they share a step', async () => {
    const engine = new PromqlEngine(data());
    const merged = asMap(await engine.evaluateRange('rate({__name__=~"x_total|y_total"}[1m])', 2 * M, 30 * M, M));
    expect([...merged.keys()]).toEqual(['{"job":"j"}']);
    expect(merged.get('{"job":"j"}')!.size).toBe(29);
    await expect(engine.evaluateRange('rate({__name__=~"x_total|z_total"}[1m])', 2 * M, 30 * M, M)).rejects.toThrow(
      'vector cannot contain metrics with the same labelset',
    );
  });
});
