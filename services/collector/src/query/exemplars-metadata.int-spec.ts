import { cloudEvent, EVENT_TYPES, SUBJECTS, type MetricsBatchV1 } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { eventually, getJson, TEST_NATS_URL } from '@arcwatch/testing';
import pino from 'pino';
import { startCollector, startTargetServer, type CollectorHarness, type TargetServer } from '../testing/harness';

/**
 * Through the collector's HTTP API, end to end: an OpenMetrics target with HELP / TYPE / UNIT and
 * an exemplar is scraped, a request-statistics batch of tracing's shape (latency buckets whose
 * exemplars carry request ids) arrives on the metrics stream, and the writer stores both.
 * /api/v1/query_exemplars, /api/v1/metadata and the catalog's start / end answer from them.
 */
const OPENMETRICS = [
  '# TYPE lat_seconds histogram',
  '# UNIT lat_seconds seconds',
  '# HELP lat_seconds Request latency.',
  'lat_seconds_bucket{le="0.5"} 3',
  'lat_seconds_bucket{le="1.0"} 5 # {trace_id="abc123"} 0.7 1714564800.5',
  'lat_seconds_bucket{le="+Inf"} 6',
  'lat_seconds_count 6',
  'lat_seconds_sum 9.0',
  '# TYPE jobs_running gauge',
  '# HELP jobs_running Jobs running now.',
  'jobs_running 2',
  '# EOF',
  '',
].join('\n');

const MINUTE = Date.UTC(2026, 10, 30, 12, 0, 0);

function tracingStats(): MetricsBatchV1 {
  const base = { job: 'arcwatch-tracing', instance: 'tracing-0', model: 'qwen', tenant: 'acme' };
  const bucket = (le: string, v: number) => ({
    labels: { __name__: 'arcwatch_request_e2e_seconds_bucket', ...base, le },
    samples: [[MINUTE, v]] as Array<[number, number]>,
  });
  return {
    batchId: 'tracing-minute-1',
    source: 'tracing',
    cluster: 'tracing',
    node: 'tracing-0',
    target: { job: 'arcwatch-tracing', instance: 'tracing-0' },
    scrapedAtMs: MINUTE,
    series: [bucket('1', 10), bucket('5', 12), bucket('+Inf', 12)],
    exemplars: [
      { series: 0, labels: { request_id: 'req-fast' }, value: 0.42, timestampMs: MINUTE - 30_000 },
      { series: 1, labels: { request_id: 'req-slow' }, value: 4.2, timestampMs: MINUTE - 10_000 },
    ],
  };
}

type Body = { status: string; data: unknown };

describe('Prometheus API: exemplars, metadata, series windows', () => {
  let target: TargetServer;
  let collector: CollectorHarness;
  let bus: EventBus;

  beforeAll(async () => {
    target = await startTargetServer({ '/metrics': OPENMETRICS });
    collector = await startCollector(
      [
        'global: { scrape_interval: 1s, scrape_timeout: 1s }',
        'scrape_configs:',
        `  - { job_name: om, static_configs: [{ targets: ["127.0.0.1:${target.port}"] }] }`,
      ].join('\n'),
    );
    bus = await EventBus.connect({
      url: TEST_NATS_URL,
      name: 'exemplars-test',
      namespace: collector.namespace,
      logger: pino({ level: 'silent' }),
    });
    const b = tracingStats();
    await bus.publish(
      SUBJECTS.metricsSamples(b.cluster, b.node),
      cloudEvent({
        type: EVENT_TYPES.metricsBatch,
        source: 'arcwatch/tracing',
        id: b.batchId,
        data: b,
        time: new Date(MINUTE),
      }),
    );
  });

  afterAll(async () => {
    await bus?.drain();
    await collector?.stop();
    await target?.close();
  });

  const get = (path: string, params: Record<string, string>) =>
    getJson<Body>(`${collector.url}${path}?${new URLSearchParams(params).toString()}`);

  it("answers the exemplars of a scraped OpenMetrics histogram in Prometheus's format", async () => {
    const res = await eventually(
      async () => {
        const r = await get('/api/v1/query_exemplars', { query: 'lat_seconds_bucket{job="om"}' });
        return (r.body.data as unknown[]).length > 0 ? r : undefined;
      },
      20_000,
      'exemplar of the scrape stored',
    );
    expect(res).toEqual({
      status: 200,
      body: {
        status: 'success',
        data: [
          {
            seriesLabels: {
              __name__: 'lat_seconds_bucket',
              le: '1.0',
              job: 'om',
              instance: `127.0.0.1:${target.port}`,
            },
            exemplars: [{ labels: { trace_id: 'abc123' }, value: '0.7', timestamp: 1714564800.5 }],
          },
        ],
      },
    });
  });

  it("answers tracing's latency-bucket exemplars with the request ids, by query and window", async () => {
    const query = 'histogram_quantile(0.99, sum by (le) (rate(arcwatch_request_e2e_seconds_bucket[5m])))';
    const res = await eventually(
      async () => {
        const r = await get('/api/v1/query_exemplars', {
          query,
          start: String((MINUTE - 60_000) / 1000),
          end: String(MINUTE / 1000),
        });
        return (r.body.data as unknown[]).length === 2 ? r : undefined;
      },
      20_000,
      'tracing exemplars stored',
    );
    const data = res.body.data as Array<{ seriesLabels: Record<string, string>; exemplars: unknown[] }>;
    expect(data.map((s) => [s.seriesLabels.le, s.seriesLabels.model, s.exemplars])).toEqual([
      ['1', 'qwen', [{ labels: { request_id: 'req-fast' }, value: '0.42', timestamp: (MINUTE - 30_000) / 1000 }]],
      ['5', 'qwen', [{ labels: { request_id: 'req-slow' }, value: '4.2', timestamp: (MINUTE - 10_000) / 1000 }]],
    ]);
    const narrow = await get('/api/v1/query_exemplars', {
      query,
      start: String((MINUTE - 20_000) / 1000),
      end: String(MINUTE / 1000),
    });
    expect((narrow.body.data as typeof data).flatMap((s) => s.exemplars)).toEqual([
      { labels: { request_id: 'req-slow' }, value: '4.2', timestamp: (MINUTE - 10_000) / 1000 },
    ]);
    const bad = await get('/api/v1/query_exemplars', { query: 'rate(' });
    expect(bad.status).toBe(400);
  });

  it('returns the HELP, TYPE and UNIT the target declared; guesses only for families nobody described', async () => {
    const res = await eventually(
      async () => {
        const r = await get('/api/v1/metadata', {});
        const data = r.body.data as Record<string, unknown>;
        return data.lat_seconds && data.arcwatch_request_e2e_seconds_bucket ? data : undefined;
      },
      20_000,
      'metadata stored',
    );
    expect(res.lat_seconds).toEqual([{ type: 'histogram', help: 'Request latency.', unit: 'seconds' }]);
    expect(res.jobs_running).toEqual([{ type: 'gauge', help: 'Jobs running now.', unit: '' }]);
    // tracing's batch declares nothing (and has buckets only, no _count / _sum): named as stored, help and unit empty
    expect(res.arcwatch_request_e2e_seconds_bucket).toEqual([{ type: 'unknown', help: '', unit: '' }]);
    // the declared histogram is not also guessed from its series' names
    expect(Object.keys(res).filter((k) => k.startsWith('lat_seconds'))).toEqual(['lat_seconds']);
    expect(res.up).toEqual([{ type: 'unknown', help: '', unit: '' }]);
    expect((await get('/api/v1/metadata', { metric: 'lat_seconds' })).body.data).toEqual({
      lat_seconds: [{ type: 'histogram', help: 'Request latency.', unit: 'seconds' }],
    });
  });

  it('lists a series only for a window that holds one of its samples', async () => {
    const sel = { 'match[]': '{__name__=~"arcwatch_request_e2e_seconds_bucket|jobs_running"}' };
    const names = async (start: number, end: number) => {
      const r = await get('/api/v1/series', { ...sel, start: String(start / 1000), end: String(end / 1000) });
      return [...new Set((r.body.data as Array<Record<string, string>>).map((l) => l.__name__))].sort();
    };
    const now = Date.now();
    await eventually(
      async () => ((await names(now - 60_000, now + 60_000)).length > 0 ? true : undefined),
      20_000,
      'a scrape stored',
    );
    expect(await names(now - 60_000, now + 60_000)).toEqual(['jobs_running']);
    expect(await names(MINUTE - 1000, MINUTE + 1000)).toEqual(['arcwatch_request_e2e_seconds_bucket']);
    expect(await names(MINUTE + 1000, MINUTE + 2000)).toEqual([]);
    const values = await get('/api/v1/label/model/values', {
      start: String((MINUTE - 1000) / 1000),
      end: String((MINUTE + 1000) / 1000),
    });
    expect(values.body.data).toEqual(['qwen']);
    const none = await get('/api/v1/label/model/values', {
      start: String((now - 60_000) / 1000),
      end: String((now + 60_000) / 1000),
    });
    expect(none.body.data).toEqual([]);
  });
});
