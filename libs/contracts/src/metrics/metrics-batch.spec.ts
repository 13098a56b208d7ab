import { cloudEvent, deterministicId, parseCloudEvent } from '../cloudevents/envelope';
import { EVENT_TYPES, SUBJECTS, subjectToken } from '../subjects';
import { fromWireValue, metricsBatchV1Schema, toWireValue, type MetricsBatchV1 } from './metrics-batch.v1';
import { STALE_NAN, isStaleNaN } from './series';

describe('metrics batch v1', () => {
  const batch: MetricsBatchV1 = {
    batchId: deterministicId('scrape', 'dcgm', 'node-1:9400', 1700000000000),
    source: 'scrape',
    cluster: 'prod',
    node: 'node-1',
    target: { job: 'dcgm', instance: 'node-1:9400' },
    scrapedAtMs: 1700000000000,
    series: [
      {
        labels: { __name__: 'DCGM_FI_DEV_GPU_UTIL', gpu: '0' },
        samples: [
          [1700000000000, 87],
          [1700000015000, 'stale'],
        ],
      },
    ],
  };

  it('round-trips through a CloudEvent body', () => {
    const body = JSON.stringify(
      cloudEvent({ type: EVENT_TYPES.metricsBatch, source: '/collector', id: batch.batchId, data: batch }),
    );
    const parsed = parseCloudEvent(body, EVENT_TYPES.metricsBatch, metricsBatchV1Schema);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.event.data.series[0].samples[1][1]).toBe('stale');
  });

  it('names the field that is wrong', () => {
    const body = JSON.stringify(
      cloudEvent({ type: EVENT_TYPES.metricsBatch, source: '/x', data: { ...batch, scrapedAtMs: 'soon' } }),
    );
    const parsed = parseCloudEvent(body, EVENT_TYPES.metricsBatch, metricsBatchV1Schema);
    expect(parsed).toEqual({ ok: false, reason: expect.stringContaining('scrapedAtMs') });
  });

  it('keeps the staleness marker apart from an ordinary NaN', () => {
    expect(isStaleNaN(STALE_NAN)).toBe(true);
    expect(isStaleNaN(NaN)).toBe(false);
    expect(isStaleNaN(fromWireValue(toWireValue(STALE_NAN)))).toBe(true);
    expect(toWireValue(NaN)).toBe('NaN');
    expect(toWireValue(-Infinity)).toBe('-Inf');
  });

  it('gives the same id for the same fact', () => {
    expect(deterministicId('a', 1)).toBe(deterministicId('a', 1));
    expect(deterministicId('a', 1)).not.toBe(deterministicId('a1'));
  });

  it('keeps the ids it gave before: they are message ids and event ids consumers have stored', () => {
    // Pinned from the implementation that hashed each part and its NUL separately.
    expect([
      deterministicId('scrape', 'dcgm', 'node-1:9400', 1700000000000),
      deterministicId('a', 1),
      deterministicId(),
      deterministicId('request-event-batch', 'r1', 'received', 1700000000123, 'r1', 'completed', 1700000000456),
      deterministicId('ü€', 'x'),
    ]).toEqual([
      '0cf7101db1babf190acf9a0caa2c5481',
      '8bf19097aa1a235b67bc19aeb9077018',
      'e3b0c44298fc1c149afbf4c8996fb924',
      'a8e8a9123e26d42870b300a1e5be3824',
      '7a769b6c57ba82f068d1de7469f785e1',
    ]);
  });

  it('makes subject tokens safe', () => {
    expect(SUBJECTS.metricsSamples('eu.west', 'gpu node*1')).toBe('aw.metrics.v1.samples.eu_west.gpu_node_1');
    expect(subjectToken('')).toBe('_');
  });
});
