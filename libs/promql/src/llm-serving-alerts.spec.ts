/** The alert expressions an SRE team runs on a vLLM fleet, over hand-made scrapes. */
import type { Labels } from '@arcwatch/contracts';
import { PromqlEngine } from './engine';
import { MemoryQueryable } from './memory-queryable';

const MIN = 60_000;
const T0 = 1_700_000_000_000;

/** Scrapes every 15 s for 10 minutes with value f(t in seconds since T0). */
function scrape(store: MemoryQueryable, labels: Labels, f: (s: number) => number): void {
  for (let s = 0; s <= 600; s += 15) store.add(labels, T0 + s * 1000, f(s));
}

describe('vLLM fleet alert expressions', () => {
  it('up{job="vllm"} == 0 finds the instance that stopped answering', async () => {
    const store = new MemoryQueryable();
    scrape(store, { __name__: 'up', job: 'vllm', instance: 'gpu-1:8000' }, () => 1);
    scrape(store, { __name__: 'up', job: 'vllm', instance: 'gpu-2:8000' }, (s) => (s < 300 ? 1 : 0));
    scrape(store, { __name__: 'up', job: 'dcgm', instance: 'gpu-2:9400' }, () => 0);
    const res = await new PromqlEngine(store).instantQuery('up{job="vllm"} == 0', T0 + 10 * MIN);
    expect(res).toEqual({
      resultType: 'vector',
      result: [
        { metric: { __name__: 'up', job: 'vllm', instance: 'gpu-2:8000' }, value: [(T0 + 10 * MIN) / 1000, '0'] },
      ],
      warnings: [],
      infos: [],
    });
  });

  it('p99 time to first token above 5 s fires only for the slow model', async () => {
    const store = new MemoryQueryable();
    const bounds = ['0.5', '1', '2.5', '5', '10', '+Inf'];
    // Per second: fast model has every request under 0.5 s; slow one has 2 % of requests > 10 s.
    const perSecond: Record<string, number[]> = {
      'llama-8b': [10, 10, 10, 10, 10, 10],
      'llama-70b': [1, 2, 4, 8, 9.8, 10],
    };
    for (const [model, counts] of Object.entries(perSecond)) {
      bounds.forEach((le, i) => {
        scrape(
          store,
          { __name__: 'vllm:time_to_first_token_seconds_bucket', model_name: model, le },
          (s) => counts[i] * s,
        );
      });
    }
    const engine = new PromqlEngine(store);
    const expr = 'histogram_quantile(0.99, rate(vllm:time_to_first_token_seconds_bucket[5m])) > 5';
    const res = await engine.evaluateInstant(expr, T0 + 10 * MIN);
    expect(res.result.type).toBe('vector');
    if (res.result.type !== 'vector') return;
    expect(res.result.samples).toHaveLength(1);
    expect(res.result.samples[0].labels).toEqual({ model_name: 'llama-70b' });
    // The 99th percentile falls in the +Inf bucket, so the largest finite bound is reported.
    expect(res.result.samples[0].value).toBe(10);

    const q50 = await engine.evaluateInstant(
      'histogram_quantile(0.5, rate(vllm:time_to_first_token_seconds_bucket[5m]))',
      T0 + 10 * MIN,
    );
    if (q50.result.type !== 'vector') throw new Error('expected a vector');
    const byModel = Object.fromEntries(q50.result.samples.map((s) => [s.labels.model_name, s.value]));
    expect(byModel['llama-8b']).toBeCloseTo(0.25, 10);
    expect(byModel['llama-70b']).toBeCloseTo(2.5 + 2.5 * (1 / 4), 10);
  });

  it('GPU framebuffer above 95 % used, as a percentage, keeps the GPU labels', async () => {
    const store = new MemoryQueryable();
    const gpu = (id: string) => ({ gpu: id, UUID: `GPU-${id}`, Hostname: 'node-a' });
    scrape(store, { __name__: 'DCGM_FI_DEV_FB_USED', ...gpu('0') }, () => 78_000);
    scrape(store, { __name__: 'DCGM_FI_DEV_FB_FREE', ...gpu('0') }, () => 1_500);
    scrape(store, { __name__: 'DCGM_FI_DEV_FB_USED', ...gpu('1') }, () => 40_000);
    scrape(store, { __name__: 'DCGM_FI_DEV_FB_FREE', ...gpu('1') }, () => 39_500);
    const engine = new PromqlEngine(store);
    const expr = '(DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)) * 100 > 95';
    const res = await engine.instantQuery(expr, T0 + 10 * MIN);
    expect(res.resultType).toBe('vector');
    if (res.resultType !== 'vector') return;
    expect(res.result).toEqual([
      { metric: gpu('0'), value: [(T0 + 10 * MIN) / 1000, String((78_000 / 79_500) * 100)] },
    ]);

    const range = await engine.rangeQuery(expr, T0 + 5 * MIN, T0 + 10 * MIN, MIN);
    expect(range.resultType).toBe('matrix');
    if (range.resultType !== 'matrix') return;
    expect(range.result).toHaveLength(1);
    expect(range.result[0].values.map(([t]) => t)).toEqual([5, 6, 7, 8, 9, 10].map((m) => (T0 + m * MIN) / 1000));
  });
});
