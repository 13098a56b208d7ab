import { toWireValue } from '@arcwatch/contracts';
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

describe('push batches from a text import', () => {
  it('groups by target and merges a series written twice, as groupIntoBatches does', () => {
    const builder = new ImportBatchBuilder();
    const extra = { job: 'fleet', instance: 'n1' };
    const parsed = parseExposition(BODY, { labelCache: builder.labelCaches.prometheus });
    const got = builder.build(parsed.samples, extra, { cluster: 'c1', contentKey: 'k', receivedAtMs: T + 1 });
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
      const got = builder.build(parsed.samples, {}, { cluster: 'c1', contentKey: 'k', receivedAtMs });
      expect(got).toEqual(reference(BODY, {}, receivedAtMs));
      expect(got.map((b) => b.target)).toEqual([
        { job: '', instance: '' },
        { job: 'other', instance: 'n2:9100' },
      ]);
    }
  });

  it('does not carry one push’s extra labels into the next', () => {
    const builder = new ImportBatchBuilder();
    const first = builder.build(parseExposition(BODY, { labelCache: builder.labelCaches.prometheus }).samples, { instance: 'a' }, { cluster: 'c1', contentKey: 'k', receivedAtMs: T });
    const second = builder.build(parseExposition(BODY, { labelCache: builder.labelCaches.prometheus }).samples, { instance: 'b' }, { cluster: 'c1', contentKey: 'k', receivedAtMs: T });
    expect(first[0]!.series.every((s) => s.labels.instance === 'a')).toBe(true);
    expect(second[0]!.series.every((s) => s.labels.instance === 'b')).toBe(true);
    expect(second).toEqual(reference(BODY, { instance: 'b' }, T));
  });
});
