/**
 * The whole pipeline, every program as its own process against the real servers: the simulated
 * fleet serves dcgm-exporter and vLLM metrics and sends request traffic; the collector scrapes
 * and stores the metrics and answers PromQL; tracing assembles the requests and publishes their
 * per-minute statistics, which the collector stores as series too.
 */
import { eventually, getJson as getJsonAnonymous, withAuth } from '@arcwatch/testing';
import { startStack, type Stack } from './support/stack';

interface PromVector {
  status: string;
  data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

/** Every call as the test admin (services take Bearer tokens). */
const getJson = <T>(url: string) => getJsonAnonymous<T>(url, withAuth());

const NODES = 2;
const GPUS = 8;

describe('pipeline: fleet → collector → storage → PromQL, and requests → tracing → statistics', () => {
  let stack: Stack;
  let collectorUrl = '';
  let tracingUrl = '';

  beforeAll(async () => {
    stack = await startStack({ services: ['tracing', 'collector'], fleet: { nodes: NODES, gpus: GPUS } });
    collectorUrl = stack.url('collector');
    tracingUrl = stack.url('tracing');
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
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
