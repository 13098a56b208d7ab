import { toMetricsBatchV1, toWireValue, type MetricsBatchV2 } from '@arcwatch/contracts';
import { parseExposition } from '@arcwatch/exposition';
import { ImportBatchBuilder } from './import-batches';
import { groupIntoBatches, type PushedSeries } from './push-batches';

const T = 1_767_600_000_000;
const BODY = [
  '# TYPE DCGM_FI_DEV_GPU_UTIL gauge',
  `DCGM_FI_DEV_GPU_UTIL{gpu="0",Hostname="n1"} 80 ${T}`,
  `DCGM_FI_DEV_GPU_UTIL{gpu="1",Hostname="n1"} 70 ${T}`,
  // the same series again, labels in another order, an earlier time
  `DCGM_FI_DEV_GPU_UTIL{Hostname="n1",gpu="0"} 75 ${T - 15_000}`,
  `up{job="other",instance="n2:9100"} 1 ${T}`,
  'vllm:num_requests_waiting{model_name="m"} NaN',
  `DCGM_FI_DEV_GPU_TEMP{gpu="0",Hostname="n1"} 41 ${T}`,
].join('\n');

/** What the push path built before: every sample as its own series, grouped and de-duplicated by groupIntoBatches. */
function reference(body: string, extra: Record<string, string>, receivedAtMs: number) {
  const series: PushedSeries[] = parseExposition(body).samples.map((s) => ({
    labels: { ...s.labels, ...extra, __name__: s.name },
    samples: [[s.timestampMs ?? receivedAtMs, toWireValue(s.value)]],
  }));
  return groupIntoBatches(series, { source: 'import', cluster: 'c1', contentKey: 'k', receivedAtMs });
}

/** The builder's packed batches in v1 form, to compare with the reference. */
const unpacked = (batches: MetricsBatchV2[]) => batches.map(toMetricsBatchV1);

describe('push batches from a text import', () => {
  it('groups by target and merges a series written twice, as groupIntoBatches does', () => {
    const builder = new ImportBatchBuilder();
    const extra = { job: 'fleet', instance: 'n1' };
    const parsed = parseExposition(BODY, { labelCache: builder.labelCaches.prometheus });
    const got = unpacked(builder.build(parsed.samples, extra, { cluster: 'c1', contentKey: 'k', receivedAtMs: T + 1 }));
    expect(got).toEqual(reference(BODY, extra, T + 1));
    expect(got).toHaveLength(1); // extra labels override the exposition's job and instance
    const util0 = got[0]!.series.find((s) => s.labels.gpu === '0' && s.labels.__name__ === 'DCGM_FI_DEV_GPU_UTIL')!;
    expect(util0.samples).toEqual([
      [T - 15_000, 75],
      [T, 80],
    ]);
  });

  it('keeps targets apart without extra labels, and gives the same answer on the next push', () => {
    const builder = new ImportBatchBuilder();
    for (const receivedAtMs of [T + 1, T + 2]) {
      const parsed = parseExposition(BODY, { labelCache: builder.labelCaches.prometheus });
      const got = unpacked(builder.build(parsed.samples, {}, { cluster: 'c1', contentKey: 'k', receivedAtMs }));
      expect(got).toEqual(reference(BODY, {}, receivedAtMs));
      expect(got.map((b) => b.target)).toEqual([
        { job: '', instance: '' },
        { job: 'other', instance: 'n2:9100' },
      ]);
    }
  });

  it('does not carry one push’s extra labels into the next', () => {
    const builder = new ImportBatchBuilder();
    const first = unpacked(
      builder.build(
        parseExposition(BODY, { labelCache: builder.labelCaches.prometheus }).samples,
        { instance: 'a' },
        { cluster: 'c1', contentKey: 'k', receivedAtMs: T },
      ),
    );
    const second = unpacked(
      builder.build(
        parseExposition(BODY, { labelCache: builder.labelCaches.prometheus }).samples,
        { instance: 'b' },
        { cluster: 'c1', contentKey: 'k', receivedAtMs: T },
      ),
    );
    expect(first[0]!.series.every((s) => s.labels.instance === 'a')).toBe(true);
    expect(second[0]!.series.every((s) => s.labels.instance === 'b')).toBe(true);
    expect(second).toEqual(reference(BODY, { instance: 'b' }, T));
  });
});

describe('the packed form of a push', () => {
  const SCRAPE = [`a{gpu="0"} 1 ${T}`, `a{gpu="1"} 2 ${T}`, `b{gpu="0"} NaN ${T}`].join('\n');

  it('carries the shared labels and one shared time once, no counts, and the rest of each series', () => {
    const builder = new ImportBatchBuilder();
    const [b] = builder.build(
      parseExposition(SCRAPE, { labelCache: builder.labelCaches.prometheus }).samples,
      { job: 'fleet', instance: 'n1' },
      { cluster: 'c1', contentKey: 'k', receivedAtMs: T + 5 },
    );
    expect(b).toMatchObject({
      labels: '{instance="n1",job="fleet"}',
      series: ['a{gpu="0"}', 'a{gpu="1"}', 'b{gpu="0"}'],
      timestampMs: T,
    });
    expect(b!.counts).toBeUndefined();
    expect(b!.timestamps).toBeUndefined();
  });

  it('keeps each sample’s own time when they differ, and counts when a series repeats', () => {
    const builder = new ImportBatchBuilder();
    const [b] = builder.build(
      parseExposition(BODY, { labelCache: builder.labelCaches.prometheus }).samples,
      { job: 'fleet', instance: 'n1' },
      { cluster: 'c1', contentKey: 'k', receivedAtMs: T + 1 },
    );
    expect(b!.timestamps).toBeDefined();
    expect(b!.counts).toEqual([2, 1, 1, 1, 1]);
    // the next push, same series once each: no counts again
    const [next] = builder.build(
      parseExposition(SCRAPE, { labelCache: builder.labelCaches.prometheus }).samples,
      { job: 'fleet', instance: 'n1' },
      { cluster: 'c1', contentKey: 'k2', receivedAtMs: T + 5 },
    );
    expect(next!.counts).toBeUndefined();
  });

  it('writes each series text anew when the shared labels change', () => {
    const builder = new ImportBatchBuilder();
    const push = (body: string) =>
      builder.build(
        parseExposition(body, { labelCache: builder.labelCaches.prometheus }).samples,
        { job: 'fleet', instance: 'n1' },
        { cluster: 'c1', contentKey: body, receivedAtMs: T },
      )[0]!;
    expect(push(SCRAPE).series[0]).toBe('a{gpu="0"}');
    // gpu="0" on every line now: gpu becomes shared, and the same series object writes its text again
    const second = push([`a{gpu="0"} 1 ${T}`, `b{gpu="0"} 2 ${T}`].join('\n'));
    expect(second).toMatchObject({ labels: '{gpu="0",instance="n1",job="fleet"}', series: ['a', 'b'] });
    expect(toMetricsBatchV1(push(SCRAPE)).series.map((s) => s.labels)).toEqual([
      { __name__: 'a', gpu: '0', job: 'fleet', instance: 'n1' },
      { __name__: 'a', gpu: '1', job: 'fleet', instance: 'n1' },
      { __name__: 'b', gpu: '0', job: 'fleet', instance: 'n1' },
    ]);
  });

  it('carries OpenMetrics exemplars with the index of their series, also when a series repeats', () => {
    const om = (lines: string[]) =>
      parseExposition([...lines, '# EOF', ''].join('\n'), { format: 'openmetrics' }).samples;
    const builder = new ImportBatchBuilder();
    const single = builder.build(
      om([
        '# TYPE lat histogram',
        'lat_bucket{le="1"} 2 # {trace_id="t1"} 0.5 1767600000.0',
        'lat_bucket{le="+Inf"} 3 # {trace_id="t2"} 9',
        'lat_count 3',
        'lat_sum 9.5',
      ]),
      { job: 'api', instance: 'a:1' },
      { cluster: 'c1', contentKey: 'k', receivedAtMs: T },
    );
    expect(single[0]!.exemplars).toEqual([
      { series: 0, labels: { trace_id: 't1' }, value: 0.5, timestampMs: 1_767_600_000_000 },
      { series: 1, labels: { trace_id: 't2' }, value: 9, timestampMs: T },
    ]);
    const v1 = toMetricsBatchV1(single[0]!);
    expect(v1.series[1]!.labels.le).toBe('+Inf');
    const repeated = builder.build(
      om([
        '# TYPE c counter',
        'c_total 1 1767599990',
        'c_total 2 1767600000 # {trace_id="t3"} 1 1767599999',
        'd_total 5 1767600000',
      ]),
      { job: 'api', instance: 'a:1' },
      { cluster: 'c1', contentKey: 'k2', receivedAtMs: T },
    );
    const r = toMetricsBatchV1(repeated[0]!);
    expect(r.exemplars).toEqual([{ series: 0, labels: { trace_id: 't3' }, value: 1, timestampMs: 1_767_599_999_000 }]);
    expect(r.series[0]!.labels.__name__).toBe('c_total');
  });
});
