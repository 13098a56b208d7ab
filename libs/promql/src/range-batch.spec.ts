import { STALE_NAN } from '@arcwatch/contracts';
import { PromqlEngine, type RawQueryResult } from './engine';
import { MemoryQueryable } from './memory-queryable';

const S = 1000;
const M = 60 * S;

/**
 * A small fleet with what the whole-grid path must get right: a counter reset, a staleness
 * marker, a series that starts late, a gap longer than the lookback, irregular scrape times,
 * huge values (compensated sums), and histogram buckets across two models.
 */
function fleet(): MemoryQueryable {
  const q = new MemoryQueryable();
  for (let t = 0; t <= 40 * M; t += 15 * S) {
    const jitter = (t / (15 * S)) % 3 === 0 ? 0 : 700;
    for (let gpu = 0; gpu < 4; gpu++) {
      const host = `node-${gpu % 2}`;
      if (gpu === 3 && t < 12 * M) continue; // starts late
      if (gpu === 2 && t > 20 * M && t < 28 * M) continue; // gap longer than the lookback
      q.add(
        { __name__: 'gpu_util', gpu: String(gpu), host },
        t + jitter,
        ((t / 1000 + gpu * 17) % 100) + (gpu === 1 ? 1e16 : 0),
      );
    }
    for (const [model, scale] of [
      ['a', 1],
      ['b', 3],
    ] as const) {
      for (const le of ['0.1', '0.5', '1', '+Inf']) {
        const base = (t / 1000) * scale * (le === '0.1' ? 0.2 : le === '0.5' ? 0.6 : le === '1' ? 0.9 : 1);
        const reset = model === 'b' && t >= 25 * M ? (25 * M * scale) / 1000 : 0; // counter restart
        q.add({ __name__: 'ttft_bucket', model, le, instance: 'x' }, t, base - reset * (le === '+Inf' ? 1 : 0.5));
      }
    }
  }
  const stale = Float64Array.of(STALE_NAN);
  q.add({ __name__: 'gpu_util', gpu: '0', host: 'node-0' }, 33 * M + 1, stale[0]!);
  return q;
}

/** Every step of the range query, recomputed as instant queries (the step-by-step path). */
async function stepwise(
  engine: PromqlEngine,
  expr: string,
  start: number,
  end: number,
  step: number,
): Promise<Map<string, Map<number, number>>> {
  const out = new Map<string, Map<number, number>>();
  for (let t = start; t <= end; t += step) {
    const r = (await engine.evaluateInstant(expr, t)).result;
    if (r.type !== 'vector') throw new Error(`expected a vector, got ${r.type}`);
    for (const s of r.samples) {
      const key = JSON.stringify(s.labels);
      if (!out.has(key)) out.set(key, new Map());
      out.get(key)!.set(t, s.value);
    }
  }
  return out;
}

function asMap(r: RawQueryResult): Map<string, Map<number, number>> {
  if (r.result.type !== 'matrix') throw new Error(`expected a matrix, got ${r.result.type}`);
  return new Map(
    r.result.series.map((s) => [JSON.stringify(s.labels), new Map(s.timestamps.map((t, i) => [t, s.values[i]!]))]),
  );
}

describe('range queries over the whole step grid', () => {
  const queries = [
    'gpu_util',
    'avg by (host)(gpu_util)',
    'sum without (gpu)(gpu_util)',
    'min by (host)(gpu_util)',
    'max(gpu_util)',
    'count by (host)(gpu_util)',
    'group(gpu_util)',
    'rate(ttft_bucket[5m])',
    'increase(ttft_bucket[2m] offset 1m)',
    'delta(gpu_util[3m])',
    'quantile_over_time(0.75, gpu_util[4m])',
    'sum by (le, model)(rate(ttft_bucket[5m]))',
    'histogram_quantile(0.9, sum by (le, model)(rate(ttft_bucket[5m])))',
    'topk(1, avg by (host)(gpu_util))',
    'timestamp(gpu_util)',
    'gpu_util @ 600',
  ];
  it.each(queries)('%s gives the values of step-by-step evaluation, bit for bit', async (expr) => {
    const engine = new PromqlEngine(fleet());
    const [start, end, step] = [3 * M + 7 * S, 39 * M, 45 * S];
    const range = await engine.evaluateRange(expr, start, end, step);
    const expected = await stepwise(engine, expr, start, end, step);
    const got = asMap(range);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, points] of expected) expect([...got.get(key)!]).toEqual([...points]);
  });

  it('keeps the counter annotation and the sample limit', async () => {
    const engine = new PromqlEngine(fleet());
    const r = await engine.evaluateRange('sum(rate(gpu_util[5m]))', 0, 10 * M, 15 * S);
    expect(r.infos).toEqual([
      'PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "gpu_util" (1:10)',
    ]);
    const limited = new PromqlEngine(fleet(), { maxSamples: 30 });
    await expect(limited.evaluateRange('sum(rate(ttft_bucket[5m]))', 0, 10 * M, 15 * S)).rejects.toThrow(
      'query processing would load too many samples',
    );
  });
});
