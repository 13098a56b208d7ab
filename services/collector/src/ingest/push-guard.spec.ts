import type { MetricsBatchV1 } from '@arcwatch/contracts';
import { PushSeriesGuard } from './push-guard';

function push(instance: string, gpus: number[], atMs = 0): MetricsBatchV1 {
  return {
    batchId: `b-${instance}-${gpus.join('-')}-${atMs}`,
    source: 'remote_write',
    cluster: 'c',
    node: 'n',
    target: { job: 'dcgm', instance },
    scrapedAtMs: atMs,
    series: gpus.map((gpu) => ({
      labels: { __name__: 'DCGM_FI_DEV_GPU_UTIL', gpu: String(gpu), job: 'dcgm', instance },
      samples: [[atMs, gpu]],
    })),
  };
}
const gpusOf = (b: MetricsBatchV1) => b.series.map((s) => Number(s.labels.gpu));

describe('the per-target series guard of pushes', () => {
  it('keeps known series, accepts new ones up to the limit, drops the rest, per target', () => {
    const guard = new PushSeriesGuard((job) => (job === 'dcgm' ? 3 : 0));
    expect(guard.apply(push('a', [0, 1]), 0)).toMatchObject({ dropped: 0 });
    const r = guard.apply(push('a', [5, 1, 6, 7]), 1000);
    expect([gpusOf(r.batch), r.dropped]).toEqual([[5, 1], 2]);
    // known series always pass, also past the limit's new arrivals
    expect(gpusOf(guard.apply(push('a', [0, 1, 5, 8]), 2000).batch)).toEqual([0, 1, 5]);
    // another target has its own budget; a job without a limit is untouched
    expect(gpusOf(guard.apply(push('b', [1, 2, 3, 4]), 2000).batch)).toEqual([1, 2, 3]);
    const free = { ...push('a', [10, 11, 12, 13]), target: { job: 'node', instance: 'a' } };
    expect(guard.apply(free, 2000)).toEqual({ batch: free, dropped: 0 });
  });

  it('forgets series not pushed for an hour, making room for new ones', () => {
    const guard = new PushSeriesGuard(() => 2, 3_600_000);
    guard.apply(push('a', [0, 1]), 0);
    expect(gpusOf(guard.apply(push('a', [2]), 3_000_000).batch)).toEqual([]);
    guard.apply(push('a', [1]), 3_000_000);
    // gpu 0 was last pushed at 0, more than an hour before: its place goes to gpu 2
    expect(gpusOf(guard.apply(push('a', [2, 3]), 3_700_000).batch)).toEqual([2]);
  });

  it('moves exemplars with their series', () => {
    const guard = new PushSeriesGuard(() => 1);
    const b = {
      ...push('a', [0, 1]),
      exemplars: [
        { series: 1, labels: { trace_id: 't1' }, value: 1, timestampMs: 0 },
        { series: 0, labels: { trace_id: 't0' }, value: 0, timestampMs: 0 },
      ],
    };
    expect(guard.apply(b, 0).batch.exemplars).toEqual([
      { series: 0, labels: { trace_id: 't0' }, value: 0, timestampMs: 0 },
    ]);
  });
});
