import { METRICS_BATCH_V2, metricsBatchV2Schema, toMetricsBatchV1 } from '@arcwatch/contracts';
import { StalenessTracker } from '@arcwatch/gpu-telemetry';
import { buildBatch, TargetBatcher } from './batch-builder';

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

  describe('interval after interval (TargetBatcher)', () => {
    const target = { cluster: 'c1', hostname: 'gpu-node-001', job: 'arcwatch-agent', instance: 'gpu-node-001' };
    const gpu = (name: string, i: number, value: number) => ({
      labels: { __name__: name, gpu: String(i), UUID: `GPU-${i}`, Hostname: 'gpu-node-001', modelName: 'NVIDIA H100' },
      value,
    });
    const reading = (gpus: number[], t: number, nvlink = false) => [
      ...gpus.map((i) => gpu('DCGM_FI_DEV_GPU_TEMP', i, 60 + i + t)),
      ...gpus.map((i) => gpu('DCGM_FI_DEV_FB_USED', i, 1000 * i)),
      ...(nvlink ? gpus.map((i) => gpu('arcwatch_gpu_nvlink_bytes_total', i, 1e9 * t)) : []),
      { labels: { __name__: 'arcwatch_agent_gpus' }, value: gpus.length },
    ];
    // What the agent sent before it kept texts between intervals: buildBatch over the samples plus the markers.
    const reference = (tracker: StalenessTracker, samples: ReturnType<typeof reading>, t: number, failed = false) => {
      const stale = tracker.update(samples, { everything: failed });
      return buildBatch({
        ...target,
        scrapedAtMs: t,
        samples: [...samples, ...stale.map((labels) => ({ labels: { ...labels }, value: 'stale' as const }))],
        metadata: [{ metric: 'DCGM_FI_DEV_GPU_TEMP', type: 'gauge', help: 'GPU temperature (in C).' }],
      });
    };

    it('sends, every interval, the batch buildBatch makes with the staleness markers, and reads back as those samples', () => {
      const batcher = new TargetBatcher(target);
      const tracker = new StalenessTracker();
      const metadata = [{ metric: 'DCGM_FI_DEV_GPU_TEMP', type: 'gauge' as const, help: 'GPU temperature (in C).' }];
      const t0 = Date.UTC(2026, 11, 3, 12);
      const steps: Array<{ gpus: number[]; nvlink?: boolean; failed?: boolean }> = [
        { gpus: [0, 1, 2] },
        { gpus: [0, 1, 2], nvlink: true },
        { gpus: [0, 1, 2] },
        { gpus: [0, 2] }, // GPU 1 fell off the bus
        { gpus: [0, 2], nvlink: true }, // GPU 1's NVLink series go stale now, when the family is sent again
        { gpus: [], failed: true }, // the reading failed: everything is stale
        { gpus: [0, 1, 2] },
      ];
      steps.forEach((step, i) => {
        const t = t0 + i * 1000;
        const samples = reading(step.gpus, i, step.nvlink);
        const got = batcher.build(t, samples, { failed: step.failed === true, metadata });
        const want = reference(tracker, samples, t, step.failed);
        expect([i, got]).toEqual([i, want]);
        expect(metricsBatchV2Schema.safeParse(got.event.data).success).toBe(true);
      });
      // The step where GPU 1 went away: its two series are marked stale, with job and instance.
      const t3 = t0 + 3000;
      const gone = new TargetBatcher(target);
      gone.build(t3 - 1000, reading([0, 1, 2], 2), { failed: false });
      const v1 = toMetricsBatchV1(
        metricsBatchV2Schema.parse(gone.build(t3, reading([0, 2], 3), { failed: false }).event.data),
      );
      expect(
        v1.series
          .filter((s) => s.samples[0]![1] === 'stale')
          .map((s) => [s.labels.__name__, s.labels.gpu, s.labels.job]),
      ).toEqual([
        ['DCGM_FI_DEV_GPU_TEMP', '1', 'arcwatch-agent'],
        ['DCGM_FI_DEV_FB_USED', '1', 'arcwatch-agent'],
      ]);
    });

    it('takes a series whose labels come in another order for the same series (no marker, same text)', () => {
      const batcher = new TargetBatcher(target);
      const t0 = Date.UTC(2026, 11, 3, 12);
      const a = batcher.build(
        t0,
        [
          { labels: { __name__: 'up', b: '2', a: '1' }, value: 1 },
          { labels: { __name__: 'x' }, value: 2 },
        ],
        {
          failed: false,
        },
      );
      const b = batcher.build(
        t0 + 1000,
        [
          { labels: { a: '1', __name__: 'up', b: '2' }, value: 1 },
          { labels: { __name__: 'x' }, value: 2 },
        ],
        {
          failed: false,
        },
      );
      const data = (o: typeof a) => metricsBatchV2Schema.parse(o.event.data);
      expect(data(b).series).toEqual(data(a).series);
      expect(data(a).series).toEqual(['up{a="1",b="2"}', 'x']);
      expect(toMetricsBatchV1(data(b)).series.map((s) => s.samples[0]![1])).toEqual([1, 2]);
    });
  });
});
