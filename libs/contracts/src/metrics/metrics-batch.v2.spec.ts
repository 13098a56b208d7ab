import fc from 'fast-check';
import { cloudEvent, parseCloudEvent } from '../cloudevents/envelope';
import { EVENT_TYPES } from '../subjects';
import { toMetricsBatchV1, toMetricsBatchV2 } from './metrics-batch.convert';
import type { MetricsBatchV1, WireValue } from './metrics-batch.v1';
import { metricsBatchV2Schema, packedSampleCount, type MetricsBatchV2 } from './metrics-batch.v2';
import { decodeFloat64Base64, encodeFloat64Base64 } from './packed-float64';
import { STALE_NAN, isStaleNaN } from './series';
import { formatSeriesText, parseSeriesText, SeriesTextError } from './series-text';

const labelName = fc.oneof(
  fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/),
  fc.string({ minLength: 1, maxLength: 6 }),
);
const labelValue = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('', '"', '\\', '\n', 'a\\"b', 'GPU-ü', '{x="y"}'),
);
const metricName = fc.oneof(
  fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,10}$/),
  fc.string({ minLength: 1, maxLength: 6 }),
  fc.constant('vllm:num_requests_running'),
);
const labels = fc
  .tuple(
    fc.option(metricName, { nil: undefined }),
    fc.dictionary(
      labelName.filter((n) => n !== '__name__'),
      labelValue,
      { maxKeys: 5 },
    ),
  )
  .map(([name, rest]) => (name === undefined ? { ...rest } : { ...rest, __name__: name }));
const wireValue: fc.Arbitrary<WireValue> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom<WireValue>('NaN', '+Inf', '-Inf', 'stale'),
);
const timestamp = fc.integer({ min: -1e13, max: 1e13 });

function v1Batch(series: fc.Arbitrary<MetricsBatchV1['series']>): fc.Arbitrary<MetricsBatchV1> {
  return fc.record({
    batchId: fc.stringMatching(/^[0-9a-f]{1,32}$/),
    source: fc.constantFrom('scrape', 'import', 'remote_write', 'recording_rule', 'tracing'),
    cluster: fc.string({ maxLength: 5 }),
    node: fc.string({ maxLength: 5 }),
    target: fc.record({ job: fc.string({ maxLength: 5 }), instance: fc.string({ maxLength: 5 }) }),
    scrapedAtMs: timestamp,
    series,
  });
}

/** Any batch v1 can say: several samples per series, times differing or not. */
const anyV1 = v1Batch(
  fc.array(fc.record({ labels, samples: fc.array(fc.tuple(timestamp, wireValue), { minLength: 1, maxLength: 4 }) }), {
    maxLength: 8,
  }),
);
/** A scrape: one sample per series, one time. */
const scrapeV1 = fc
  .tuple(timestamp, fc.array(fc.tuple(labels, wireValue), { maxLength: 8 }))
  .chain(([t, list]) =>
    v1Batch(fc.constant(list.map(([l, v]) => ({ labels: l, samples: [[t, v] as [number, WireValue]] })))),
  );

describe('series text', () => {
  it('reads back every label set it writes', () => {
    fc.assert(
      fc.property(labels, (l) => expect(parseSeriesText(formatSeriesText(l))).toEqual(l)),
      { numRuns: 500 },
    );
  });

  it('is the exposition form, labels sorted', () => {
    expect(formatSeriesText({ gpu: '0', __name__: 'DCGM_FI_DEV_GPU_UTIL', Hostname: 'n1', job: 'dcgm' })).toBe(
      'DCGM_FI_DEV_GPU_UTIL{Hostname="n1",gpu="0",job="dcgm"}',
    );
    expect(formatSeriesText({ __name__: 'up' })).toBe('up');
    expect(formatSeriesText({ __name__: 'a.b', 'c-d': 'x"\n\\' })).toBe('{"a.b","c-d"="x\\"\\n\\\\"}');
    expect(formatSeriesText({})).toBe('{}');
  });

  it('refuses what it would never write', () => {
    for (const bad of [
      'up{',
      'up{a="x"',
      'up{a=x}',
      'up{a="x"}z',
      'up{a="\\t"}',
      'up{a="1",a="2"}',
      '{"x","y"}',
      '1up',
      'up{,}',
    ]) {
      expect(() => parseSeriesText(bad)).toThrow(SeriesTextError);
    }
  });
});

describe('metrics batch v2', () => {
  it('round-trips every v1 batch exactly: v1 → v2 → v1', () => {
    fc.assert(
      fc.property(anyV1, (b) => {
        const packed = toMetricsBatchV2(b);
        expect(metricsBatchV2Schema.safeParse(packed).success).toBe(true);
        expect(packedSampleCount(packed)).toBe(b.series.reduce((n, s) => n + s.samples.length, 0));
        expect(toMetricsBatchV1(packed)).toEqual(b);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips v2 → v1 → v2 exactly, through JSON', () => {
    fc.assert(
      fc.property(fc.oneof(anyV1, scrapeV1), (b) => {
        const packed = metricsBatchV2Schema.parse(JSON.parse(JSON.stringify(toMetricsBatchV2(b))));
        expect(toMetricsBatchV2(toMetricsBatchV1(packed))).toEqual(packed);
      }),
      { numRuns: 300 },
    );
  });

  it('carries a scrape with one shared time and no counts', () => {
    const t = 1_767_600_000_000;
    const packed = toMetricsBatchV2({
      batchId: 'b1',
      source: 'scrape',
      cluster: 'c',
      node: 'n',
      target: { job: 'dcgm', instance: 'n:9400' },
      scrapedAtMs: t,
      series: [
        { labels: { __name__: 'up', job: 'dcgm' }, samples: [[t, 1]] },
        { labels: { __name__: 'x', job: 'dcgm' }, samples: [[t, 'stale']] },
      ],
    });
    expect(packed).toMatchObject({ labels: '{job="dcgm"}', series: ['up', 'x'], timestampMs: t });
    expect(packed.counts).toBeUndefined();
    expect(packed.timestamps).toBeUndefined();
    const bytes = Buffer.from(packed.values, 'base64');
    // little-endian float64 bits: 1.0, then the staleness marker 0x7ff0000000000002
    expect([0, 4, 8, 12].map((at) => bytes.readUInt32LE(at))).toEqual([0, 0x3ff00000, 2, 0x7ff00000]);
  });

  it('writes the labels every series shares once, and refuses a batch that repeats or names them', () => {
    const t = 1_767_600_000_000;
    const gpu = (g: string, name: string) => ({
      labels: { __name__: name, gpu: g, Hostname: 'n1', job: 'fleet', instance: 'n1' },
      samples: [[t, 1] as [number, WireValue]],
    });
    const b: MetricsBatchV1 = {
      batchId: 'b',
      source: 'import',
      cluster: 'c',
      node: 'n1',
      target: { job: 'fleet', instance: 'n1' },
      scrapedAtMs: t,
      series: [gpu('0', 'a'), gpu('1', 'a'), gpu('0', 'b')],
    };
    const packed = toMetricsBatchV2(b);
    expect(packed.labels).toBe('{Hostname="n1",instance="n1",job="fleet"}');
    expect(packed.series).toEqual(['a{gpu="0"}', 'a{gpu="1"}', 'b{gpu="0"}']);
    expect(toMetricsBatchV1(packed)).toEqual(b);
    expect(() => toMetricsBatchV1({ ...packed, series: ['a{gpu="0",job="x"}', 'a', 'b'] })).toThrow(
      /repeats shared label job/,
    );
    expect(() => toMetricsBatchV1({ ...packed, labels: 'up{job="x"}' })).toThrow(/name a metric/);
  });

  it('keeps float64 bits through base64', () => {
    const values = new Float64Array([1.5, -0, Infinity, -Infinity, NaN, Number.MIN_VALUE]);
    values[4] = STALE_NAN;
    const back = decodeFloat64Base64(encodeFloat64Base64(values), values.length)!;
    expect(Buffer.from(back.buffer).equals(Buffer.from(values.buffer))).toBe(true);
    expect(isStaleNaN(back[4]!)).toBe(true);
    expect(decodeFloat64Base64('AAAA*AAAAAA=', 1)).toBeUndefined();
    expect(decodeFloat64Base64('AAAAAAAAAAA=', 2)).toBeUndefined();
  });

  it('names what does not add up', () => {
    const good = toMetricsBatchV2({
      batchId: 'b',
      source: 'import',
      cluster: 'c',
      node: 'n',
      target: { job: 'j', instance: 'i' },
      scrapedAtMs: 1,
      series: [{ labels: { __name__: 'a' }, samples: [[1, 1]] }],
    });
    const cases: Array<[Partial<MetricsBatchV2>, string]> = [
      [{ values: '' }, 'values: not 1 float64 values'],
      [{ counts: [2] }, 'values: not 2 float64 values'],
      [{ counts: [1, 1] }, 'counts: 2 counts for 1 series'],
      [{ timestamps: good.values }, 'timestampMs: exactly one of timestampMs and timestamps'],
      [{ values: '!!!!!!!!!!!=' }, 'values: not base64'],
      [
        { exemplars: [{ series: 1, labels: { trace_id: 'x' }, value: 1, timestampMs: 1 }] },
        'exemplars.0.series: no series 1 in a batch of 1',
      ],
    ];
    for (const [patch, reason] of cases) {
      const body = JSON.stringify(
        cloudEvent({ type: EVENT_TYPES.metricsBatchV2, source: '/x', data: { ...good, ...patch } }),
      );
      const parsed = parseCloudEvent(body, EVENT_TYPES.metricsBatchV2, metricsBatchV2Schema);
      expect(parsed).toEqual({ ok: false, reason: expect.stringContaining(reason) });
    }
  });
});

describe('exemplars in the batch (optional field of v1 and v2)', () => {
  it('travel with their series through v1 → v2 → v1', () => {
    const v1: MetricsBatchV1 = {
      batchId: 'e',
      source: 'tracing',
      cluster: 'c',
      node: 'n',
      target: { job: 'j', instance: 'i' },
      scrapedAtMs: 60_000,
      series: [
        { labels: { __name__: 'lat_bucket', le: '0.5' }, samples: [[60_000, 3]] },
        { labels: { __name__: 'lat_bucket', le: '+Inf' }, samples: [[60_000, 4]] },
      ],
      exemplars: [{ series: 1, labels: { request_id: 'req-9' }, value: 2.25, timestampMs: 59_000 }],
    };
    const v2 = toMetricsBatchV2(v1);
    expect(metricsBatchV2Schema.parse(JSON.parse(JSON.stringify(v2))).exemplars).toEqual(v1.exemplars);
    const back = toMetricsBatchV1(v2);
    expect(back.exemplars).toEqual(v1.exemplars);
    expect(back.series[back.exemplars![0]!.series]!.labels.le).toBe('+Inf');
  });
});
