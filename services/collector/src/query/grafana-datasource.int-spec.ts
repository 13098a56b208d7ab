import { getJson, withAuth } from '@arcwatch/testing';
import type { SampleStore } from '@arcwatch/storage';
import { SAMPLE_STORE } from '../database/sample-store.provider';
import { startCollector, type CollectorHarness } from '../testing/harness';
import { INSTANCES, PROMPT_TOKENS_ADDED, storeFleet, T0_MS, T1_MS } from './llm-fleet.fixture';

/**
 * The requests Grafana's Prometheus data source (pkg/promlib) sends, replayed in order:
 * "Save & test" runs the instant query `1+1` over the range Unix 1 s … 4 s, POSTed as a form
 * (POST is the data source's default method), then reads buildinfo to tell Prometheus from
 * Mimir; a panel render POSTs query_range with float-second times and step, and the query
 * editor fills its metric and label pickers from labels, label values, series and metadata.
 */
const HEADERS = {
  'User-Agent': 'Grafana/11.6.0',
  Accept: 'application/json, text/plain, */*',
  'X-Grafana-Org-Id': '1',
};
const FORM = { ...HEADERS, 'Content-Type': 'application/x-www-form-urlencoded' };

type Body = { status: string; data: unknown; errorType?: string; error?: string };

describe('Grafana Prometheus data source against the collector', () => {
  let collector: CollectorHarness;

  const get = (path: string, params: Record<string, string> = {}): Promise<{ status: number; body: Body }> => {
    const qs = new URLSearchParams(params).toString();
    return getJson<Body>(`${collector.url}${path}${qs ? `?${qs}` : ''}`, { headers: HEADERS });
  };
  const post = (path: string, form: URLSearchParams): Promise<{ status: number; body: Body }> =>
    getJson<Body>(`${collector.url}${path}`, { method: 'POST', headers: FORM, body: form.toString() });

  beforeAll(async () => {
    collector = await startCollector();
    await storeFleet(collector.app);
  });

  afterAll(async () => {
    await collector?.stop();
  });

  it('passes "Save & test": 1+1 as POST and GET, then buildinfo reads as plain Prometheus', async () => {
    const posted = await post('/api/v1/query', new URLSearchParams({ query: '1+1', time: '4' }));
    expect(posted).toEqual({
      status: 200,
      body: { status: 'success', data: { resultType: 'scalar', result: [4, '2'] } },
    });

    const got = await get('/api/v1/query', { query: '1 + 1', time: '4' });
    expect(got).toEqual(posted);

    const build = await get('/api/v1/status/buildinfo');
    expect(build.status).toBe(200);
    const info = build.body.data as Record<string, unknown>;
    expect(info.version).toMatch(/^2\.\d+\.\d+$/);
    // Any `features` makes Grafana treat the source as Mimir with a ruler API.
    expect(info.features).toBeUndefined();

    // Runtime information tells the retention storage maintenance applies (COLLECTOR_RETENTION_DAYS).
    const runtime = await get('/api/v1/status/runtimeinfo');
    expect((runtime.body.data as Record<string, unknown>).storageRetention).toBe(`${collector.config.retentionDays}d`);
  });

  it('renders a panel: query_range as a form with float-second start, end and step', async () => {
    const form = new URLSearchParams({
      query: 'sum by (instance) (rate(vllm:prompt_tokens_total[5m]))',
      start: String(T0_MS / 1000),
      end: String(T1_MS / 1000),
      step: '15',
    });
    const res = await post('/api/v1/query_range', form);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [{ metric: { instance: INSTANCES.vllm }, values: [[T1_MS / 1000, String(PROMPT_TOKENS_ADDED / 300)]] }],
      },
    });
  });

  it('fills the query editor: labels, metric names, series, metadata, exemplars', async () => {
    const window = { start: String(T0_MS / 1000), end: String(T1_MS / 1000) };

    const labels = await post('/api/v1/labels', new URLSearchParams(window));
    expect(labels.status).toBeLessThan(300);
    expect(labels.body.data).toEqual(
      expect.arrayContaining(['__name__', 'instance', 'job', 'le', 'model_name', 'gpu', 'modelName']),
    );

    const names = await get('/api/v1/label/__name__/values', window);
    expect(names.status).toBe(200);
    expect(names.body.data).toEqual(
      expect.arrayContaining(['up', 'DCGM_FI_DEV_FB_USED', 'vllm:time_to_first_token_seconds_bucket']),
    );

    const seriesForm = new URLSearchParams(window);
    seriesForm.append('match[]', 'vllm:num_requests_running');
    const series = await post('/api/v1/series', seriesForm);
    expect(series.status).toBeLessThan(300);
    expect(series.body.data).toEqual([
      expect.objectContaining({ __name__: 'vllm:num_requests_running', job: 'vllm', instance: INSTANCES.vllm }),
    ]);

    const metadata = await get('/api/v1/metadata');
    expect(metadata.status).toBe(200);
    expect((metadata.body.data as Record<string, unknown>)['vllm:time_to_first_token_seconds']).toEqual([
      { type: 'histogram', help: '', unit: '' },
    ]);
    expect((metadata.body.data as Record<string, unknown>)['vllm:prompt_tokens_total']).toEqual([
      { type: 'counter', help: '', unit: '' },
    ]);

    // Grafana asks for the exemplars of the panel's query over the panel's range; a bucket with a
    // trace id (what an instrumented vLLM exposes in OpenMetrics) comes back for its series only.
    const bucket = {
      __name__: 'vllm:time_to_first_token_seconds_bucket',
      job: 'vllm',
      instance: INSTANCES.vllm,
      le: '0.5',
      model_name: 'exemplar-model',
    };
    await collector.app.get<SampleStore>(SAMPLE_STORE).appendBatch({
      batchId: 'grafana-exemplar',
      source: 'scrape',
      cluster: 'test',
      node: 'vllm-0',
      target: { job: 'vllm', instance: INSTANCES.vllm },
      scrapedAtMs: T1_MS,
      series: [{ labels: bucket, samples: [[T1_MS, 1]] }],
      exemplars: [
        {
          series: 0,
          labels: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' },
          value: 0.31,
          timestampMs: T1_MS - 5_000,
        },
      ],
    });
    const exemplars = await get('/api/v1/query_exemplars', {
      query: 'histogram_quantile(0.99, rate(vllm:time_to_first_token_seconds_bucket[5m]))',
      ...window,
    });
    expect(exemplars).toEqual({
      status: 200,
      body: {
        status: 'success',
        data: [
          {
            seriesLabels: bucket,
            exemplars: [
              {
                labels: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' },
                value: '0.31',
                timestamp: (T1_MS - 5_000) / 1000,
              },
            ],
          },
        ],
      },
    });
    const outside = await get('/api/v1/query_exemplars', {
      query: 'vllm:time_to_first_token_seconds_bucket',
      start: String(T0_MS / 1000),
      end: String((T1_MS - 10_000) / 1000),
    });
    expect(outside.body.data).toEqual([]);
  });

  it('tells where a query went: select, eval and serialize in Server-Timing, and every phase in a histogram', async () => {
    const form = new URLSearchParams({
      query: 'sum by (instance) (rate(vllm:prompt_tokens_total[5m]))',
      start: String(T0_MS / 1000),
      end: String(T1_MS / 1000),
      step: '15',
    });
    const res = await fetch(
      `${collector.url}/api/v1/query_range`,
      withAuth({ method: 'POST', headers: FORM, body: form.toString() }),
    );
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(((await res.json()) as Body).data).toEqual({
      resultType: 'matrix',
      result: [{ metric: { instance: INSTANCES.vllm }, values: [[T1_MS / 1000, String(PROMPT_TOKENS_ADDED / 300)]] }],
    });
    const spans = (res.headers.get('server-timing') ?? '').split(', ').map((s) => s.split(';dur='));
    expect(spans.map(([name]) => name)).toEqual(['select', 'eval', 'serialize']);
    for (const [, dur] of spans) expect(Number(dur)).toBeGreaterThanOrEqual(0);
    const metrics = await (await fetch(`${collector.url}/metrics`, withAuth())).text();
    for (const phase of ['select', 'eval', 'serialize', 'send'])
      expect(metrics).toMatch(
        new RegExp(`arcwatch_collector_query_phase_seconds_count\\{endpoint="query_range",phase="${phase}"\\} [1-9]`),
      );
  });

  it("shows the server's error text for a bad panel query", async () => {
    const res = await post(
      '/api/v1/query_range',
      new URLSearchParams({ query: 'rate(up)', start: '0', end: '60', step: '15' }),
    );
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      status: 'error',
      errorType: 'bad_data',
      error:
        'invalid parameter "query": 1:6: parse error: expected type range vector in call to function "rate", got instant vector',
    });
  });
});
