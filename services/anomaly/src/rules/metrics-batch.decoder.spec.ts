/** Metrics batch messages decoded for the window: v1 and v2, NaN and stale kept, garbage named. */
import { cloudEvent, EVENT_TYPES, isStaleNaN, toMetricsBatchV2, type MetricsBatchV1 } from '@arcwatch/contracts';
import { PoisonMessageError, type InboundMessage } from '@arcwatch/messaging';
import { decodeMetricsMessages } from './metrics-batch.decoder';

const batch: MetricsBatchV1 = {
  batchId: 'b1',
  source: 'scrape',
  cluster: 'c',
  node: 'n',
  target: { job: 'vllm', instance: 'n:8000' },
  scrapedAtMs: 1000,
  series: [
    { labels: { __name__: 'a', x: '1' }, samples: [[1000, 1.5]] },
    {
      labels: { __name__: 'b' },
      samples: [
        [1000, 'NaN'],
        [2000, 'stale'],
      ],
    },
  ],
};
const msg = (seq: number, body: unknown): InboundMessage =>
  ({
    seq,
    subject: 'aw.metrics.v1.samples.c.n',
    data: new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)),
  }) as unknown as InboundMessage;

describe('decodeMetricsMessages', () => {
  it('takes v1 and v2 batches alike; NaN and staleness markers are samples', () => {
    const v1 = cloudEvent({ id: 'e1', source: 't', type: EVENT_TYPES.metricsBatch, data: batch });
    const v2 = cloudEvent({ id: 'e2', source: 't', type: EVENT_TYPES.metricsBatchV2, data: toMetricsBatchV2(batch) });
    const { samples, failed } = decodeMetricsMessages([msg(1, v1), msg(2, v2)]);
    expect(failed.size).toBe(0);
    expect(samples).toHaveLength(6);
    const b = samples.filter((s) => s.labels.__name__ === 'b');
    expect(Number.isNaN(b[0].v) && !isStaleNaN(b[0].v)).toBe(true);
    expect(isStaleNaN(b[1].v)).toBe(true);
    expect(samples.find((s) => s.labels.__name__ === 'a')).toEqual({
      labels: { __name__: 'a', x: '1' },
      t: 1000,
      v: 1.5,
    });
  });

  it('names each malformed message as poison and keeps the good ones of the group', () => {
    const good = cloudEvent({ id: 'e1', source: 't', type: EVENT_TYPES.metricsBatch, data: batch });
    const { samples, failed } = decodeMetricsMessages([
      msg(1, '{"nope'),
      msg(2, cloudEvent({ id: 'e3', source: 't', type: EVENT_TYPES.metricsBatch, data: { series: 1 } })),
      msg(3, good),
      msg(
        4,
        cloudEvent({
          id: 'e4',
          source: 't',
          type: EVENT_TYPES.metricsBatchV2,
          data: { ...toMetricsBatchV2(batch), values: '!!' },
        }),
      ),
    ]);
    expect([...failed.keys()]).toEqual([1, 2, 4]);
    expect([...failed.values()].every((e) => e instanceof PoisonMessageError)).toBe(true);
    expect(failed.get(1)?.message).toMatch(/body is not JSON/);
    expect(samples).toHaveLength(3);
  });
});
