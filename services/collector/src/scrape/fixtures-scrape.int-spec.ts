import { readFileSync } from 'node:fs';
import path from 'node:path';
import { authFetch, FIXTURES_DIR, eventually, getJson } from '@arcwatch/testing';
import { isStaleNaN } from '@arcwatch/contracts';
import { startCollector, startTargetServer, type CollectorHarness, type TargetServer } from '../testing/harness';

/**
 * Every real exposition fixture, served by a local HTTP server and scraped by the collector,
 * lands in Postgres with exactly its series and samples, plus the four synthetic series. The
 * expected counts come from the files themselves: one sample per line that is not a comment.
 */
const FIXTURES = [
  'dcgm-exporter/dcgm-exporter-GRID-A100-40C-vgpu.k8s-ai-conformance-vks.metrics.txt',
  'dcgm-exporter/dcgm-exporter-L4-driver580.k8s-ai-conformance-kops.metrics.txt',
  'vllm/vllm-v1-qwen2.5-0.5b.k8s-ai-conformance-kops.metrics.txt',
  'sglang/datadog-integrations-core.sglang_metrics.txt',
  'sglang/sglang-docs-production_metrics.example.metrics.txt',
  'node-exporter/node-exporter-1.5.0-debian12.metrics.txt',
  'prometheus-exposition/prometheus-alltypes.237mfs.prom.txt',
  'prometheus-exposition/promtool-metrics-test.prom',
  'prometheus-exposition/prometheus-alltypes.5mfs.om.txt',
  'prometheus-exposition/prometheus-1histogram.om.txt',
];

function sampleLines(text: string): number {
  return text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).length;
}

type ApiBody = { status: string; data: Array<Record<string, string>> & string[]; errorType?: string; error?: string };

describe('scraping every real fixture', () => {
  let targets: TargetServer;
  let collector: CollectorHarness;
  const bodies = new Map(FIXTURES.map((f, i) => [`/f${i}/metrics`, readFileSync(path.join(FIXTURES_DIR, f), 'utf8')]));

  beforeAll(async () => {
    targets = await startTargetServer(Object.fromEntries(bodies));
    const jobs = FIXTURES.map((f, i) =>
      [
        `  - job_name: f${i}`,
        `    metrics_path: /f${i}/metrics`,
        '    honor_timestamps: false',
        `    static_configs: [{ targets: ["127.0.0.1:${targets.port}"], labels: { fixture: "${path.basename(f)}" } }]`,
      ].join('\n'),
    );
    collector = await startCollector(
      ['global: { scrape_interval: 2s, scrape_timeout: 2s }', 'scrape_configs:', ...jobs].join('\n'),
    );
  });

  afterAll(async () => {
    await collector?.stop();
    await targets?.close();
  });

  it.each(FIXTURES.map((f, i) => [f, i] as const))(
    '%s: every series and sample of one scrape is stored',
    async (fixture, i) => {
      const expected = sampleLines(bodies.get(`/f${i}/metrics`) as string);
      const job = `f${i}`;
      const series = await eventually(
        async () => {
          const s = await collector.store.select([{ name: 'job', type: '=', value: job }], 0, Date.now() + 60_000);
          return s.some((x) => x.labels.__name__ === 'up') ? s : undefined;
        },
        20_000,
        `first scrape of ${fixture}`,
      );
      const up = series.find((s) => s.labels.__name__ === 'up');
      expect(up?.values[0]).toBe(1);
      const t0 = up?.timestamps[0] as number;
      const atFirstScrape = series.filter((s) => Array.from(s.timestamps).includes(t0));
      expect(atFirstScrape.length).toBe(expected + 4);
      const synthetic = Object.fromEntries(
        series
          .filter((s) => s.labels.__name__.startsWith('scrape_samples'))
          .map((s) => [s.labels.__name__, s.values[Array.from(s.timestamps).indexOf(t0)]]),
      );
      expect(synthetic).toEqual({ scrape_samples_scraped: expected, scrape_samples_post_metric_relabeling: expected });
      for (const s of atFirstScrape) {
        expect(s.labels).toMatchObject({ job, instance: `127.0.0.1:${targets.port}`, fixture: path.basename(fixture) });
        expect(isStaleNaN(s.values[Array.from(s.timestamps).indexOf(t0)])).toBe(false);
      }
    },
  );

  it("answers the catalog endpoints in Prometheus's format", async () => {
    const dcgmJob = 'f1';
    await eventually(
      async () =>
        (await collector.store.series([[{ name: 'job', type: '=', value: dcgmJob }]], 0, Date.now())).length > 0
          ? true
          : undefined,
      20_000,
    );
    const { body: series } = await getJson<ApiBody>(
      `${collector.url}/api/v1/series?match[]=${encodeURIComponent(`DCGM_FI_DEV_GPU_UTIL{job="${dcgmJob}"}`)}`,
    );
    expect(series.status).toBe('success');
    expect(series.data.length).toBeGreaterThan(0);
    expect(series.data[0]).toMatchObject({ __name__: 'DCGM_FI_DEV_GPU_UTIL', job: dcgmJob });

    const form = new URLSearchParams([
      ['match[]', `up{job="${dcgmJob}"}`],
      ['start', '0'],
      ['end', String(Date.now() / 1000 + 60)],
    ]);
    const posted = await authFetch(`${collector.url}/api/v1/labels`, { method: 'POST', body: form });
    expect(posted.status).toBe(200);
    const labels = await posted.json();
    expect(labels).toEqual({ status: 'success', data: ['__name__', 'fixture', 'instance', 'job'] });

    const { body: values } = await getJson<ApiBody>(`${collector.url}/api/v1/label/job/values?match[]=up`);
    expect(values.data).toEqual(expect.arrayContaining(FIXTURES.map((_, i) => `f${i}`)));

    const bad = await authFetch(`${collector.url}/api/v1/series?match[]=${encodeURIComponent('{job=~".*"}')}`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      status: 'error',
      errorType: 'bad_data',
      error: expect.stringContaining('non-empty matcher'),
    });
    const none = await authFetch(`${collector.url}/api/v1/series`);
    expect(await none.json()).toMatchObject({
      status: 'error',
      errorType: 'bad_data',
      error: 'no match[] parameter provided',
    });
  });

  it('serves its own metrics, health and readiness the way every service does', async () => {
    const metrics = await (await authFetch(`${collector.url}/metrics`)).text();
    expect(metrics).toMatch(/^arcwatch_collector_scrapes_total\{job="f0",result="ok"\} [1-9]\d*$/m);
    expect(metrics).toContain('# TYPE arcwatch_collector_publish_duration_seconds histogram');
    expect(metrics).toMatch(/^arcwatch_collector_writer_samples_total [1-9]\d*$/m);
    // Node's own process metrics come with the runtime's registry.
    expect(metrics).toContain('# TYPE arcwatch_process_cpu_user_seconds_total counter');
    expect(await getJson(`${collector.url}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
    const ready = await getJson<{ status: string; info: Record<string, { status: string }> }>(
      `${collector.url}/readyz`,
    );
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ok', info: { postgres: { status: 'up' }, nats: { status: 'up' } } });
  });

  it("answers errors in Prometheus's body on /api/v1 and in the ArcWatch error body elsewhere", async () => {
    expect(await getJson(`${collector.url}/no-such-route`)).toEqual({
      status: 404,
      body: { code: 'NOT_FOUND', message: 'Cannot GET /no-such-route' },
    });
    // Refused by the body parser, before any controller runs: still Prometheus's shape.
    const unparsed = await getJson(`${collector.url}/api/v1/import/prometheus`, {
      method: 'POST',
      body: 'up 1\n',
      headers: { 'Content-Type': 'application/x-unknown' },
    });
    expect(unparsed).toEqual({
      status: 415,
      body: { status: 'error', errorType: 'internal', error: expect.stringContaining('Unsupported Media Type') },
    });
    const badPush = await getJson(`${collector.url}/api/v1/import/prometheus?extra_label=bad`, {
      method: 'POST',
      body: 'up 1\n',
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(badPush).toEqual({
      status: 400,
      body: {
        status: 'error',
        errorType: 'bad_data',
        error: 'extra_label "bad": expected name=value with a valid label name',
      },
    });
  });
});
