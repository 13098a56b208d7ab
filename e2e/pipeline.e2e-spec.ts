/**
 * The whole pipeline, every program as its own process against the real servers: the simulated
 * fleet serves dcgm-exporter and vLLM metrics and sends request traffic; the collector scrapes
 * and stores the metrics and answers PromQL; tracing assembles the requests and publishes their
 * per-minute statistics, which the collector stores as series too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, eventually, testNamespace, type TestDatabase } from '@arcwatch/testing';
import { freePort, freePortRange, getJson, startProcess, type RunningProcess } from '@arcwatch/testing';

interface PromVector {
  status: string;
  data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

const NODES = 2;
const GPUS = 8;

describe('pipeline: fleet → collector → storage → PromQL, and requests → tracing → statistics', () => {
  let db: TestDatabase;
  let dir: string;
  const procs: RunningProcess[] = [];
  let collectorUrl = '';
  let tracingUrl = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-e2e-'));
    const namespace = testNamespace();
    const [collectorPort, tracingPort, fleetPort] = [
      await freePort(),
      await freePort(),
      await freePortRange(NODES * 2),
    ];
    collectorUrl = `http://127.0.0.1:${collectorPort}`;
    tracingUrl = `http://127.0.0.1:${tracingPort}`;
    const common = { DATABASE_URL: db.url, NATS_URL: 'nats://127.0.0.1:4222', NATS_NAMESPACE: namespace };

    const tracing = startProcess('tracing', 'services/tracing/src/main.ts', [], {
      ...common,
      TRACING_PORT: String(tracingPort),
      TRACING_HOST: '127.0.0.1',
      TRACING_API_KEY_SALT: 'e2e-salt-0123456789abcdef',
      TRACING_COMPLETION_GRACE_MS: '500',
      TRACING_STATS_LATENESS_MS: '1000',
    });
    procs.push(tracing);
    await eventually(
      async () => ((await fetch(`${tracingUrl}/readyz`)).ok ? true : undefined),
      60_000,
      `tracing ready\n${tracing.log()}`,
    );

    const scrapeConfig = path.join(dir, 'collector.yml');
    const fleet = startProcess(
      'fleet-sim',
      'tools/fleet-sim/src/main.ts',
      [
        '--nodes',
        String(NODES),
        '--gpus',
        String(GPUS),
        '--base-port',
        String(fleetPort),
        '--outage',
        'none',
        '--scrape-interval',
        '1s',
        '--write-sd',
        path.join(dir, 'fleet-sd.json'),
        '--write-scrape-config',
        scrapeConfig,
        '--tracing-url',
        tracingUrl,
      ],
      {},
    );
    procs.push(fleet);
    await eventually(
      () => (fs.existsSync(scrapeConfig) ? true : undefined),
      30_000,
      `fleet scrape config\n${fleet.log()}`,
    );

    const collector = startProcess('collector', 'services/collector/src/main.ts', [], {
      ...common,
      COLLECTOR_PORT: String(collectorPort),
      COLLECTOR_HOST: '127.0.0.1',
      COLLECTOR_CONFIG: scrapeConfig,
    });
    procs.push(collector);
    await eventually(
      async () => ((await fetch(`${collectorUrl}/readyz`)).ok ? true : undefined),
      60_000,
      `collector ready\n${collector.log()}`,
    );
  });

  afterAll(async () => {
    for (const p of procs.reverse()) await p.stop();
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const query = async (expr: string) => {
    const { status, body } = await getJson<PromVector>(
      `${collectorUrl}/api/v1/query?query=${encodeURIComponent(expr)}`,
    );
    if (status !== 200) throw new Error(`query ${expr}: HTTP ${status} ${JSON.stringify(body)}`);
    return body.data.result;
  };

  it('stores every GPU of the fleet and answers PromQL over it', async () => {
    const count = await eventually(
      async () => {
        const r = await query('count(DCGM_FI_DEV_GPU_UTIL)');
        return r.length === 1 && Number(r[0].value[1]) === NODES * GPUS ? r : undefined;
      },
      60_000,
      'all GPUs stored',
    );
    expect(Number(count[0].value[1])).toBe(NODES * GPUS);

    // Each target has its own scrape loop: the vLLM targets' first scrapes may land a moment later.
    const up = await eventually(
      async () => {
        const r = await query('up{job="vllm"}');
        return r.length === NODES ? r : undefined;
      },
      30_000,
      'every vLLM target scraped',
    );
    expect(up.map((s) => Number(s.value[1]))).toEqual(Array(NODES).fill(1));

    const perHost = await query('avg by (Hostname) (DCGM_FI_DEV_GPU_UTIL)');
    expect(perHost).toHaveLength(NODES);
    for (const s of perHost) {
      const v = Number(s.value[1]);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(100);
    }
  });

  it('computes rates once two scrapes are stored', async () => {
    const rates = await eventually(
      async () => {
        const r = await query('sum by (model_name) (rate(vllm:generation_tokens_total[30s]))');
        return r.length > 0 && r.every((s) => Number(s.value[1]) > 0) ? r : undefined;
      },
      60_000,
      'token rates',
    );
    expect(rates.length).toBeGreaterThan(0);
  });

  it('assembles the simulated requests and lists them by tenant', async () => {
    const page = await eventually(
      async () => {
        const { body } = await getJson<{
          requests: Array<{ requestId: string; status: string; tenant: string; ttftMs: number | null }>;
        }>(`${tracingUrl}/api/v1/requests?limit=50`);
        return body.requests?.some((r) => r.status === 'completed') ? body : undefined;
      },
      60_000,
      'completed requests',
    );
    const done = page.requests.filter((r) => r.status === 'completed');
    expect(done.length).toBeGreaterThan(0);
    expect(done.every((r) => typeof r.ttftMs === 'number' && r.ttftMs >= 0)).toBe(true);
    const one = await getJson<{ state: string; requestId: string; tenant: string }>(
      `${tracingUrl}/api/v1/requests/${encodeURIComponent(done[0].requestId)}`,
    );
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ state: 'assembled', requestId: done[0].requestId, tenant: done[0].tenant });

    const byTenant = await getJson<{ requests: Array<{ tenant: string }> }>(
      `${tracingUrl}/api/v1/requests?tenant=${encodeURIComponent(done[0].tenant)}&limit=20`,
    );
    expect(byTenant.body.requests.length).toBeGreaterThan(0);
    expect(byTenant.body.requests.every((r) => r.tenant === done[0].tenant)).toBe(true);
  });

  it("stores tracing's per-minute statistics as series the collector answers", async () => {
    // A minute is published after it closes (+1 s lateness here), so this waits up to ~70 s.
    const totals = await eventually(
      async () => {
        const r = await query('sum(arcwatch_requests_total)');
        return r.length === 1 && Number(r[0].value[1]) > 0 ? r : undefined;
      },
      100_000,
      'arcwatch_requests_total stored',
    );
    expect(Number(totals[0].value[1])).toBeGreaterThan(0);

    // Latency buckets carry exemplars that name requests tracing knows (Grafana's jump to a request).
    const now = Date.now() / 1000;
    const ex = await getJson<{
      status: string;
      data: Array<{ seriesLabels: Record<string, string>; exemplars: Array<{ labels: { request_id: string } }> }>;
    }>(
      `${collectorUrl}/api/v1/query_exemplars?query=${encodeURIComponent('arcwatch_request_ttft_seconds_bucket')}&start=${now - 3_600}&end=${now + 60}`,
    );
    expect(ex.body.status).toBe('success');
    const requestId = ex.body.data.flatMap((d) => d.exemplars)[0]?.labels.request_id;
    expect(requestId).toBeDefined();
    const linked = await getJson<{ requestId: string }>(
      `${tracingUrl}/api/v1/requests/${encodeURIComponent(requestId as string)}`,
    );
    expect([linked.status, linked.body.requestId]).toEqual([200, requestId]);
  }, 120_000);
});
