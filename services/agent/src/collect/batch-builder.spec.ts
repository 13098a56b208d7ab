import { METRICS_BATCH_V2, metricsBatchV2Schema, toMetricsBatchV1 } from '@arcwatch/contracts';
import { buildBatch } from './batch-builder';

describe('agent metrics batches', () => {
  const input = {
    cluster: 'c1',
    hostname: 'gpu-node-001',
    job: 'arcwatch-agent',
    instance: 'gpu-node-001',
    scrapedAtMs: Date.UTC(2026, 11, 3, 12),
    samples: [
      { labels: { __name__: 'DCGM_FI_DEV_GPU_UTIL', gpu: '0', UUID: 'GPU-a', Hostname: 'gpu-node-001' }, value: 87 },
      { labels: { __name__: 'DCGM_FI_DEV_GPU_UTIL', gpu: '1', UUID: 'GPU-b', Hostname: 'gpu-node-001' }, value: 12.5 },
    ],
  };

  it('is a v2 batch on the node subject whose id depends only on target and time', () => {
    const a = buildBatch(input);
    expect(a.subject).toBe('aw.metrics.v1.samples.c1.gpu-node-001');
    expect(a.event.type).toBe(METRICS_BATCH_V2);
    expect(buildBatch({ ...input, samples: [] }).event.id).toBe(a.event.id);
    expect(buildBatch({ ...input, scrapedAtMs: input.scrapedAtMs + 1000 }).event.id).not.toBe(a.event.id);
    expect(buildBatch({ ...input, job: 'vllm' }).event.id).not.toBe(a.event.id);
  });

  it('reads back, through the collector contract, as the samples given with job and instance', () => {
    const data = metricsBatchV2Schema.parse(buildBatch(input).event.data);
    const v1 = toMetricsBatchV1(data);
    expect(v1.source).toBe('agent');
    expect(v1.series.map((s) => [s.labels, s.samples])).toEqual([
      [{ ...input.samples[0]!.labels, job: 'arcwatch-agent', instance: 'gpu-node-001' }, [[input.scrapedAtMs, 87]]],
      [{ ...input.samples[1]!.labels, job: 'arcwatch-agent', instance: 'gpu-node-001' }, [[input.scrapedAtMs, 12.5]]],
    ]);
  });
});
