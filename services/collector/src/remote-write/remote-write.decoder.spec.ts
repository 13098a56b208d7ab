import { groupIntoBatches } from '../ingest/push-batches';
import { decodeWriteRequest, encodeWriteRequest } from './remote-write.decoder';

describe('remote_write 1.0 bodies', () => {
  const request = {
    timeseries: [
      {
        labels: [
          { name: '__name__', value: 'up' },
          { name: 'job', value: 'node' },
          { name: 'instance', value: 'gpu-1:9100' },
        ],
        samples: [
          [1_700_000_000_000, 1],
          [1_700_000_015_000, 'stale'],
        ] as Array<[number, 'stale' | number]>,
      },
      {
        labels: [
          { name: '__name__', value: 'DCGM_FI_DEV_GPU_UTIL' },
          { name: 'job', value: 'dcgm' },
          { name: 'instance', value: 'gpu-1:9400' },
          { name: 'gpu', value: '0' },
        ],
        samples: [[1_700_000_000_000, 87]] as Array<[number, number]>,
      },
    ],
    metadata: [{ type: 2, metric_family_name: 'DCGM_FI_DEV_GPU_UTIL', help: 'GPU utilization (in %).', unit: '' }],
  };

  it('decodes snappy + protobuf, keeping the staleness marker apart from NaN', () => {
    const decoded = decodeWriteRequest(encodeWriteRequest(request));
    expect(decoded.timeseries[1].labels).toEqual(request.timeseries[1].labels);
    expect(decoded.metadata[0].metric_family_name).toBe('DCGM_FI_DEV_GPU_UTIL');
    const batches = groupIntoBatches(
      decoded.timeseries.map((ts) => ({
        labels: Object.fromEntries(ts.labels.map((l) => [l.name, l.value])),
        samples: ts.samples,
      })),
      { source: 'remote_write', cluster: 'prod', contentKey: 'k', receivedAtMs: 1 },
    );
    expect(batches.map((b) => [b.target, b.node, b.series.length])).toEqual([
      [{ job: 'node', instance: 'gpu-1:9100' }, 'gpu-1', 1],
      [{ job: 'dcgm', instance: 'gpu-1:9400' }, 'gpu-1', 1],
    ]);
    expect(batches[0].series[0].samples).toEqual([
      [1_700_000_000_000, 1],
      [1_700_000_015_000, 'stale'],
    ]);
    // Same request content, same batch ids: a retried request is dropped downstream.
    const again = groupIntoBatches(
      [{ labels: { __name__: 'up', job: 'node', instance: 'gpu-1:9100' }, samples: [[1, 1] as [number, number]] }],
      { source: 'remote_write', cluster: 'prod', contentKey: 'k', receivedAtMs: 99 },
    );
    expect(again[0].batchId).toBe(batches[0].batchId);
  });

  it('refuses a body that is not snappy, or not a WriteRequest, with a code', () => {
    expect(() => decodeWriteRequest(new TextEncoder().encode('up 1\n'))).toThrow(
      expect.objectContaining({ code: 'BODY_INVALID' }),
    );
  });

  it('refuses a label or metadata with a NUL character, which PostgreSQL cannot store', () => {
    const nulLabel = {
      timeseries: [
        { labels: [{ name: '__name__', value: 'up\u0000' }], samples: [[1000, 1]] as Array<[number, number]> },
      ],
      metadata: [],
    };
    expect(() => decodeWriteRequest(encodeWriteRequest(nulLabel))).toThrow(
      expect.objectContaining({
        code: 'BODY_INVALID',
        message: 'timeseries 0: a label contains a NUL character (U+0000)',
      }),
    );
    const nulHelp = { timeseries: [], metadata: [{ type: 1, metric_family_name: 'up', help: 'a\u0000b', unit: '' }] };
    expect(() => decodeWriteRequest(encodeWriteRequest(nulHelp))).toThrow(
      expect.objectContaining({ code: 'BODY_INVALID', message: 'metadata 0: contains a NUL character (U+0000)' }),
    );
  });

  it('reads exemplars (send_exemplars) and hands them to the batch of their series', () => {
    const bucket = [
      { name: '__name__', value: 'lat_seconds_bucket' },
      { name: 'job', value: 'api' },
      { name: 'instance', value: 'a:1' },
    ];
    const req = {
      timeseries: [
        { labels: [...bucket, { name: 'le', value: '0.5' }], samples: [[1000, 3]] as Array<[number, number]> },
        {
          labels: [...bucket, { name: 'le', value: '1' }],
          samples: [[1000, 5]] as Array<[number, number]>,
          exemplars: [{ labels: [{ name: 'trace_id', value: 'abc' }], value: 0.7, timestampMs: 990 }],
        },
      ],
      metadata: [],
    };
    const decoded = decodeWriteRequest(encodeWriteRequest(req));
    expect(decoded.timeseries.map((t) => t.exemplars)).toEqual([
      undefined,
      [{ labels: [{ name: 'trace_id', value: 'abc' }], value: 0.7, timestampMs: 990 }],
    ]);
    const [batch] = groupIntoBatches(
      decoded.timeseries.map((ts) => ({
        labels: Object.fromEntries(ts.labels.map((l) => [l.name, l.value])),
        samples: ts.samples,
        ...(ts.exemplars
          ? {
              exemplars: ts.exemplars.map((e) => ({
                labels: Object.fromEntries(e.labels.map((l) => [l.name, l.value])),
                value: e.value,
                timestampMs: e.timestampMs,
              })),
            }
          : {}),
      })),
      { source: 'remote_write', cluster: 'prod', contentKey: 'k', receivedAtMs: 1 },
    );
    expect(batch!.exemplars).toEqual([{ series: 1, labels: { trace_id: 'abc' }, value: 0.7, timestampMs: 990 }]);
    expect(batch!.series[1]!.labels.le).toBe('1');
  });
});
