import fc from 'fast-check';
import { compress } from 'snappyjs';
import { bodyRoutes, FUZZ_TIMEOUT_MS, fuzzRouteBodies, type BodySeed } from '@arcwatch/testing';
import { encodeWriteRequest } from './remote-write/remote-write.decoder';
import { startCollector, type CollectorHarness } from './testing/harness';

const FORM = 'application/x-www-form-urlencoded';
const T = 1_700_000_000;
const WRITE = Buffer.from(
  encodeWriteRequest({
    timeseries: [
      {
        labels: [
          { name: '__name__', value: 'DCGM_FI_DEV_GPU_TEMP' },
          { name: 'job', value: 'dcgm' },
          { name: 'instance', value: 'gpu-1:9400' },
          { name: 'gpu', value: '0' },
        ],
        samples: [
          [T * 1000, 71],
          [T * 1000 + 15_000, 'stale'],
        ],
      },
    ],
    metadata: [{ type: 1, metric_family_name: 'DCGM_FI_DEV_GPU_TEMP', help: 'GPU temperature (in C).', unit: '' }],
  }),
);
const SNAPPY = { 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' };
const form = (body: string): BodySeed[] => [{ contentType: FORM, body }];

const SEEDS: Record<string, BodySeed[]> = {
  'POST /api/v1/query': form(`query=sum by (gpu) (rate(DCGM_FI_DEV_GPU_TEMP[5m]))&time=${T}`),
  'POST /api/v1/query_range': form(`query=up&start=${T - 600}&end=${T}&step=15`),
  'POST /api/v1/query_exemplars': form(`query=up&start=${T - 600}&end=${T}`),
  'POST /api/v1/series': form(`match[]=up{job="dcgm"}&start=${T - 600}&end=${T}`),
  'POST /api/v1/labels': form(`match[]=up&start=${T - 600}&end=${T}`),
  'POST /api/v1/import/prometheus': [
    {
      contentType: 'text/plain; version=0.0.4',
      body: '# HELP pushed_total Pushed.\n# TYPE pushed_total counter\npushed_total{job="push",instance="a:1"} 3 1700000000000\nvllm:num_requests_running{instance="b:2"} 1\n',
    },
    {
      contentType: 'application/openmetrics-text; version=1.0.0',
      body: '# TYPE jobs counter\njobs_total{job="push"} 1.5\njobs_created{job="push"} 1700000000\n# EOF\n',
    },
  ],
  'POST /api/v1/write': [
    { contentType: 'application/x-protobuf', body: Buffer.from(compress(WRITE)), headers: SNAPPY },
  ],
};

const PARAM_NAMES = ['query', 'time', 'start', 'end', 'step', 'match[]', 'timeout', 'limit', 'lookback_delta'];
const formBody = fc
  .array(
    fc.tuple(fc.constantFrom(...PARAM_NAMES), fc.oneof(fc.string(), fc.constantFrom('up', '1e400', '-1', 'NaN'))),
    {
      maxLength: 6,
    },
  )
  .map((pairs) => Buffer.from(new URLSearchParams(pairs).toString()));

/** remote_write bodies that get past one layer: valid snappy around a cut or damaged WriteRequest, and cut snappy. */
const writeBody = fc.oneof(
  fc.nat(WRITE.length).map((n) => Buffer.from(compress(WRITE.subarray(0, n)))),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(compress(b))),
  fc
    .array(fc.tuple(fc.nat(WRITE.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })
    .map((flips) => {
      const b = Buffer.from(WRITE);
      for (const [i, v] of flips) b[i] = v;
      return Buffer.from(compress(b));
    }),
  fc.nat(60).map((n) => Buffer.from(compress(WRITE)).subarray(0, n)),
);

const RAW = {
  'POST /api/v1/query': formBody,
  'POST /api/v1/query_range': formBody,
  'POST /api/v1/query_exemplars': formBody,
  'POST /api/v1/series': formBody,
  'POST /api/v1/labels': formBody,
  'POST /api/v1/write': writeBody,
};

describe('collector HTTP under generated bodies (every route that takes one)', () => {
  let collector: CollectorHarness;

  beforeAll(async () => {
    collector = await startCollector('', { env: { COLLECTOR_BODY_LIMIT_BYTES: String(512 * 1024) } });
  });
  afterAll(async () => {
    await collector?.stop();
  });

  it('walks the routes Fastify registered and has a valid body for each', () => {
    const routes = bodyRoutes(collector.app);
    expect(routes.length).toBeGreaterThan(0);
    for (const key of routes) expect(SEEDS).toHaveProperty([key]);
  });

  it(
    'answers every generated body with a 2xx or a 4xx carrying a code, never a 5xx, and stays healthy',
    async () => {
      for (const key of bodyRoutes(collector.app))
        await fuzzRouteBodies(collector.app, key, {
          seeds: SEEDS,
          raw: RAW,
          // Prometheus's error body: errorType is the code (ArcWatch's code beside it on 401/403/413).
          errorCode: (b) => b.code ?? b.errorType,
        });
    },
    FUZZ_TIMEOUT_MS,
  );
});
