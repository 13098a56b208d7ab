import {
  cloudEvent,
  EVENT_TYPES,
  metricsBatchV1Schema,
  toMetricsBatchV2,
  type MetricsBatchV1,
} from '@arcwatch/contracts';
import type { InboundMessage } from '@arcwatch/messaging';
import { decodeGroup, fastDecode, isWellFormedBatch } from './batch-decoder';

const T = 1_767_600_000_000;
const good: MetricsBatchV1 = {
  batchId: 'b1',
  source: 'import',
  cluster: 'c1',
  node: 'gpu-node-001',
  target: { job: 'fleet', instance: 'gpu-node-001' },
  scrapedAtMs: T,
  series: [
    { labels: { __name__: 'DCGM_FI_DEV_GPU_UTIL', gpu: '0' }, samples: [[T, 87]] },
    {
      labels: { __name__: 'vllm:num_requests_waiting', model_name: 'm' },
      samples: [
        [T - 15_000, 'stale'],
        [T, 'NaN'],
      ],
    },
  ],
};

function message(seq: number, data: unknown, type: string = EVENT_TYPES.metricsBatch): InboundMessage {
  const body = Buffer.from(
    JSON.stringify(cloudEvent({ type, source: '/test', id: `e${seq}`, data, time: new Date(T) })),
  );
  return {
    subject: 'aw.metrics.v1.samples.c1.n',
    data: body,
    seq,
    deliveryCount: 1,
    headers: undefined,
    storedAt: new Date(T),
    json: <J>() => JSON.parse(body.toString()) as J,
    text: () => body.toString(),
    working: () => undefined,
  };
}

const broken: Array<[string, unknown]> = [
  ['a sample without a value', { ...good, series: [{ labels: { __name__: 'x' }, samples: [[T]] }] }],
  ['a fractional timestamp', { ...good, series: [{ labels: { __name__: 'x' }, samples: [[T + 0.5, 1]] }] }],
  ['an unknown value word', { ...good, series: [{ labels: { __name__: 'x' }, samples: [[T, 'Infinity']] }] }],
  ['a numeric label value', { ...good, series: [{ labels: { __name__: 'x', gpu: 0 }, samples: [[T, 1]] }] }],
  ['a series without samples', { ...good, series: [{ labels: { __name__: 'x' }, samples: [] }] }],
  ['an unknown source', { ...good, source: 'carrier-pigeon' }],
  ['an empty batch id', { ...good, batchId: '' }],
  ['a target without instance', { ...good, target: { job: 'fleet' } }],
  ['labels as a list', { ...good, series: [{ labels: ['__name__', 'x'], samples: [[T, 1]] }] }],
];

describe('decoding a group of metrics batch messages for the writer', () => {
  it('takes a well-formed batch on the fast path, as zod would', () => {
    expect(isWellFormedBatch(good)).toBe(true);
    expect(metricsBatchV1Schema.safeParse(good).success).toBe(true);
    expect(fastDecode(message(1, good).data)).toEqual({ type: EVENT_TYPES.metricsBatch, batch: good });
  });

  it.each(broken)('leaves %s to zod, which refuses it', (_what, data) => {
    expect(isWellFormedBatch(data)).toBe(false);
    expect(metricsBatchV1Schema.safeParse(data).success).toBe(false);
  });

  it('names each bad message of a group with its reason and keeps the good ones in order', () => {
    const msgs = [
      message(1, good),
      message(2, broken[0]![1]),
      message(3, { ...good, batchId: 'b3' }),
      message(4, good, 'io.arcwatch.other.v1'),
    ];
    const { parsed, failed } = decodeGroup(msgs);
    expect(parsed.map((p) => [p.msg.seq, p.batch.batchId])).toEqual([
      [1, 'b1'],
      [3, 'b3'],
    ]);
    expect([...failed.keys()]).toEqual([2, 4]);
    expect(failed.get(2)!.message).toMatch(/#2: invalid io\.arcwatch\.metrics\.batch\.v1 data: series\.0\.samples\.0/);
    expect(failed.get(4)!.message).toMatch(
      /#4: unexpected event type io\.arcwatch\.other\.v1 \(want io\.arcwatch\.metrics\.batch\.v1 or io\.arcwatch\.metrics\.batch\.v2\)/,
    );
  });

  it('lets zod judge a batch with metadata, and accepts it when valid', () => {
    const withMetadata = {
      ...good,
      metadata: [{ metric: 'DCGM_FI_DEV_GPU_UTIL', type: 'gauge', help: 'GPU utilization (in %).' }],
    };
    expect(isWellFormedBatch(withMetadata)).toBe(false);
    expect(decodeGroup([message(7, withMetadata)]).parsed[0]!.batch).toEqual(withMetadata);
  });

  it('takes v2 beside v1 in one group, and words a broken v2 by its own schema', () => {
    const packed = toMetricsBatchV2(good);
    const msgs = [
      message(1, packed, EVENT_TYPES.metricsBatchV2),
      message(2, good),
      message(3, { ...packed, values: 'AAAA' }, EVENT_TYPES.metricsBatchV2),
      message(4, packed),
    ];
    expect(fastDecode(msgs[0]!.data)).toEqual({ type: EVENT_TYPES.metricsBatchV2, batch: packed });
    const { parsed, failed } = decodeGroup(msgs);
    expect(parsed.map((p) => [p.msg.seq, p.type])).toEqual([
      [1, EVENT_TYPES.metricsBatchV2],
      [2, EVENT_TYPES.metricsBatch],
    ]);
    expect(failed.get(3)!.message).toMatch(
      /#3: invalid io\.arcwatch\.metrics\.batch\.v2 data: values: not 3 float64 values/,
    );
    // a v2 body announced as v1 is judged as v1
    expect(failed.get(4)!.message).toMatch(/#4: invalid io\.arcwatch\.metrics\.batch\.v1 data: series\.0/);
  });
});
