import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'pg';
import type { RequestCompletedV1 } from '@arcwatch/contracts';
import { REPO_ROOT, TestClock, createTestDatabase, testNamespace, type TestDatabase } from '@arcwatch/testing';
import { createBillingApp } from '../app';
import { AllocationService } from '../allocation/allocation.service';
import { AllocationWorker } from '../allocation/allocation.worker';
import { testConfig } from '../testing/billing-test-kit';
import { InventoryDiscoveryService } from './inventory-discovery.service';

/*
 * Discovery against PostgreSQL and a local HTTP server that answers GET /api/v1/query as the
 * collector does (Prometheus HTTP API, instant vector). The series carry the labels the simulated
 * fleet's exporters and scrape configuration give them: dcgm-exporter's gpu / UUID / modelName /
 * Hostname plus the target's instance / job / node, and vLLM's model_name / engine plus the
 * target's instance / job / node.
 */
const T0 = Date.parse('2026-01-05T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

type Labels = Record<string, string>;
const dcgm = (host: string, n: number, prefix: string, modelName = 'NVIDIA H100 80GB HBM3'): Labels[] =>
  Array.from({ length: n }, (_, i) => ({
    __name__: 'DCGM_FI_DEV_GPU_UTIL',
    gpu: String(i),
    UUID: `GPU-${prefix}-${i}`,
    modelName,
    Hostname: host,
    instance: `${host}:9400`,
    job: 'dcgm-exporter',
    node: host,
  }));
const vllm = (instance: string, node: string): Labels => ({
  __name__: 'vllm:num_requests_running',
  engine: '0',
  model_name: 'llama-3.1-70b',
  instance,
  job: 'vllm',
  node,
});

function record(
  id: string,
  instance: string,
  node: string,
  gpuUuids: string[],
  scheduled: number,
  end: number,
): RequestCompletedV1 {
  return {
    requestId: id,
    status: 'completed',
    startedAt: at(scheduled),
    endedAt: at(end),
    tenant: 'acme',
    team: 'acme-team',
    project: 'chat',
    apiKeyHash: null,
    model: 'llama-3.1-70b',
    modelVersion: 'v1',
    instance,
    node,
    gpuUuids,
    promptTokens: 10,
    completionTokens: 10,
    cachedTokens: null,
    finishReason: 'stop',
    error: null,
    queueMs: null,
    prefillMs: null,
    ttftMs: null,
    tpotMs: null,
    e2eMs: null,
    missingPhases: [],
    timeline: [
      { kind: 'received', time: at(scheduled) },
      { kind: 'scheduled', time: at(scheduled) },
      { kind: 'completed', time: at(end) },
    ],
  };
}

const INVENTORY = `pools:
  - { name: h100, owner: platform, idle: separate }
instances:
  - instance: file-inst:8000
    pool: h100
    placements:
      - { from: "${at(0)}", node: gpu-file, gpus: 8, gpuModel: H100, price: { provider: aws, region: us-east-1, pricingKind: on-demand } }
`;

describe('inventory discovery from the collector (Postgres + Prometheus HTTP API)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-billing-inv-'));
  const inventoryFile = path.join(dir, 'inventory.yaml');
  writeFileSync(inventoryFile, INVENTORY);
  const clock = new TestClock(T0);
  const fleet = { gpus: [] as Labels[], serving: [] as Labels[] };
  const asked: Array<{ query: string | null; time: string | null }> = [];
  let server: Server;
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let pool: Pool;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const query = url.searchParams.get('query');
      asked.push({ query, time: url.searchParams.get('time') });
      const series =
        query === 'DCGM_FI_DEV_GPU_UTIL' ? fleet.gpus : query === 'vllm:num_requests_running' ? fleet.serving : null;
      if (url.pathname !== '/api/v1/query' || series === null) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: `unexpected ${req.url}` }));
        return;
      }
      const t = Number(url.searchParams.get('time'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: series.map((metric) => ({ metric, value: [t, '0'] })) },
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    db = await createTestDatabase();
    const config = testConfig(db.url, testNamespace(), {
      BILLING_INVENTORY_FILE: inventoryFile,
      BILLING_PRICES_FILE: path.join(REPO_ROOT, 'infra/billing/prices.yaml'),
      BILLING_COLLECTOR_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      BILLING_LATENESS_SECONDS: '0',
    });
    app = await createBillingApp({ config, disableWorkerTimer: true, clock });
    await app.init();
    pool = new Pool({ connectionString: db.url });
  });

  afterAll(async () => {
    await app?.close();
    await pool?.end();
    await db?.drop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const discover = () => app.get(InventoryDiscoveryService).discoverOnce();

  it('stores a placement when it changes, from the time it was observed; the file, then request records, take precedence', async () => {
    // T0: vllm-a on gpu-node-1 (4 GPUs), vllm-b on gpu-node-2 (1 GPU), file-inst on gpu-node-3 (1 GPU),
    // and two instances sharing gpu-node-4, which the series cannot split.
    fleet.gpus = [
      ...dcgm('gpu-node-1', 4, 'a'),
      ...dcgm('gpu-node-2', 1, 'b'),
      ...dcgm('gpu-node-3', 1, 'f'),
      ...dcgm('gpu-node-4', 2, 's'),
    ];
    fleet.serving = [
      vllm('vllm-a:8000', 'gpu-node-1'),
      vllm('vllm-b:8000', 'gpu-node-2'),
      vllm('file-inst:8000', 'gpu-node-3'),
    ];
    fleet.serving.push(vllm('shared-1:8000', 'gpu-node-4'), vllm('shared-2:8000', 'gpu-node-4'));
    const first = await discover();
    expect([first.changes, first.observed, first.skipped.map((s) => [s.instance, s.reason])]).toEqual([
      3,
      3,
      [
        ['shared-1:8000', 'node-shared'],
        ['shared-2:8000', 'node-shared'],
      ],
    ]);
    expect(asked.slice(0, 2).map((a) => a.time)).toEqual([String(T0 / 1000), String(T0 / 1000)]);

    clock.set(T0 + 30_000);
    expect((await discover()).changes).toBe(0);

    // T0 + 90 s: vllm-a goes from 4 to 8 GPUs (tensor parallel 8) on the same node.
    clock.set(T0 + 90_000);
    fleet.gpus = [...dcgm('gpu-node-1', 8, 'a'), ...dcgm('gpu-node-2', 1, 'b'), ...dcgm('gpu-node-3', 1, 'f')];
    fleet.serving = [
      vllm('vllm-a:8000', 'gpu-node-1'),
      vllm('vllm-b:8000', 'gpu-node-2'),
      vllm('file-inst:8000', 'gpu-node-3'),
    ];
    expect((await discover()).changes).toBe(1);

    // Request records: vllm-a's names no GPUs (the metrics fill them in); vllm-b's names two GPUs
    // on another node at the same time as the metrics' first observation, and wins.
    const allocation = app.get(AllocationService);
    await allocation.recordBatch([
      record('r1', 'vllm-a:8000', 'gpu-node-1', [], 10, 20),
      record('r2', 'vllm-b:8000', 'node-rec', ['GPU-r-0', 'GPU-r-1'], 5, 15),
      record('r3', 'vllm-a:8000', 'gpu-node-1', [], 100, 130),
      // vllm-b: a record naming no GPUs on the same node changes nothing; then records show it on
      // node-rec2 with four GPUs from the window of second 60.
      record('r4', 'vllm-b:8000', 'node-rec', [], 40, 45),
      record('r5', 'vllm-b:8000', 'node-rec2', ['GPU-q-0', 'GPU-q-1', 'GPU-q-2', 'GPU-q-3'], 95, 100),
      record('r6', 'vllm-b:8000', 'node-rec2', ['GPU-q-0', 'GPU-q-1', 'GPU-q-2', 'GPU-q-3'], 110, 115),
    ]);
    // A later batch repeating vllm-b's statement extends its stretch rather than adding a row.
    await allocation.recordBatch([
      record('r7', 'vllm-b:8000', 'node-rec2', ['GPU-q-0', 'GPU-q-1', 'GPU-q-2', 'GPU-q-3'], 125, 128),
    ]);

    const stated = await pool.query<{ instance: string; s: number; e: number; node: string; n: number }>(
      `SELECT instance, ((from_ms - ${T0}) / 1000)::int AS s, ((to_ms - ${T0}) / 1000)::int AS e, node, jsonb_array_length(gpu_uuids) AS n
       FROM billing.record_placements ORDER BY instance, from_ms`,
    );
    // Repeats (r3 on vllm-a, r4, r6 and r7 on vllm-b) add no row; r3 and r7 extend their stretches.
    expect(stated.rows.map((r) => [r.instance, r.s, r.e, r.node, r.n])).toEqual([
      ['vllm-a:8000', 0, 120, 'gpu-node-1', 0],
      ['vllm-b:8000', 0, 60, 'node-rec', 2],
      ['vllm-b:8000', 60, 180, 'node-rec2', 4],
    ]);

    // T0 + 150 s: vllm-a moves to gpu-node-5, eight H200s.
    clock.set(T0 + 150_000);
    fleet.gpus = [
      ...dcgm('gpu-node-5', 8, 'm', 'NVIDIA H200'),
      ...dcgm('gpu-node-2', 1, 'b'),
      ...dcgm('gpu-node-3', 1, 'f'),
    ];
    fleet.serving = [
      vllm('vllm-a:8000', 'gpu-node-5'),
      vllm('vllm-b:8000', 'gpu-node-2'),
      vllm('file-inst:8000', 'gpu-node-3'),
    ];
    expect((await discover()).changes).toBe(1);

    const inventory = await allocation.inventory();
    const show = (instance: string) =>
      inventory
        .placements(instance)
        .map((p) => [
          (p.fromMs - T0) / 1000,
          p.toMs === Infinity ? null : (p.toMs - T0) / 1000,
          p.node,
          p.gpus,
          p.gpuModel,
          p.pool,
        ]);
    expect(show('vllm-a:8000')).toEqual([
      [0, 90, 'gpu-node-1', 4, 'H100', 'discovered'],
      [90, 150, 'gpu-node-1', 8, 'H100', 'discovered'],
      [150, null, 'gpu-node-5', 8, 'H200', 'discovered'],
    ]);
    // Records speak for vllm-b over [0, 180); after that the metrics (gpu-node-2, one GPU) hold.
    expect(show('vllm-b:8000')).toEqual([
      [0, 60, 'node-rec', 2, 'H100', 'discovered'],
      [60, 180, 'node-rec2', 4, 'H100', 'discovered'],
      [180, null, 'gpu-node-2', 1, 'H100', 'discovered'],
    ]);
    expect(show('file-inst:8000')).toEqual([[0, null, 'gpu-file', 8, 'H100', 'h100']]);
    expect(inventory.has('shared-1:8000')).toBe(false);
    expect(inventory.at('vllm-a:8000', T0 + 89_999)?.gpuUuids).toEqual(['GPU-a-0', 'GPU-a-1', 'GPU-a-2', 'GPU-a-3']);
  });

  it('allocates each window with the placement in force: 4 GPUs before the change, 8 after', async () => {
    await app.get(AllocationWorker).runOnce();
    const { rows } = await pool.query<{ s: string; instance: string; cost: string }>(
      `SELECT extract(epoch FROM window_start)::bigint - ${T0 / 1000} AS s, instance, cost_micro::text AS cost
       FROM billing.allocation_windows ORDER BY instance, window_start`,
    );
    // H100 on-demand us-east-1: 98.32 USD per 8-GPU hour = 12.29 USD per GPU-hour.
    // vllm-a, [0, 60): 4 GPUs × 60 s = 240 GPU-s = 819_333.33 micro, floored 819_333.
    //   [60, 120): 4 GPUs to 90 s: floor(360 GPU-s = 1_229_000) − 819_333 = 409_667;
    //   8 GPUs from 90 s (new placement): 240 GPU-s, floored 819_333. Window: 1_229_000.
    // vllm-b (from its records): 2 GPUs × 60 s = 409_666; then 4 GPUs × 60 s from the new placement = 819_333.
    // file-inst (8 GPUs, from the file): 1_638_666 then 1_638_667.
    expect(rows.map((r) => [Number(r.s), r.instance, r.cost])).toEqual([
      [0, 'file-inst:8000', '1638666'],
      [60, 'file-inst:8000', '1638667'],
      [0, 'vllm-a:8000', '819333'],
      [60, 'vllm-a:8000', '1229000'],
      [0, 'vllm-b:8000', '409666'],
      [60, 'vllm-b:8000', '819333'],
    ]);
  });

  it('fails a pass, storing nothing, when the collector answers an error', async () => {
    const before = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM billing.metric_placements');
    clock.set(T0 + 200_000);
    server.removeAllListeners('request');
    server.on('request', (_req, res) => {
      res.writeHead(503);
      res.end('down');
    });
    await expect(discover()).rejects.toMatchObject({ code: 'COLLECTOR_UNAVAILABLE' });
    const after = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM billing.metric_placements');
    expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
    expect(before.rows[0]?.n).toBe(5);
  });
});
