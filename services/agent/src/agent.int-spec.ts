import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { nodeGpuErrorV1Schema } from '@arcwatch/contracts';
import { loadRuleFiles } from '@arcwatch/rules';
import {
  authFetch,
  createTestDatabase,
  eventually,
  FIXTURES_DIR,
  freePort,
  REPO_ROOT,
  startProcess,
  TEST_AUTH_ENV,
  TEST_NATS_URL,
  testNamespace,
  type RunningProcess,
  type TestDatabase,
} from '@arcwatch/testing';
import { deleteStreams, readStream, STAND_IN, startAgent, tempDir } from './testing/agent-harness';

interface VectorResult {
  status: string;
  data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

/**
 * The agent's batches through the real pipeline: the shared NATS, the collector started as its
 * own process (scraping nothing, writing what arrives on aw.metrics.v1.samples.>), and the
 * collector's Prometheus API.
 */
describe('agent → NATS → collector', () => {
  const namespace = testNamespace();
  let db: TestDatabase;
  let collector: RunningProcess;
  let api: string;
  let engine: Server;
  let engineUrl: string;
  const dirs: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const port = await freePort();
    collector = startProcess('collector', 'services/collector/src/main.ts', [], {
      ...TEST_AUTH_ENV,
      DATABASE_URL: db.url,
      NATS_URL: TEST_NATS_URL,
      NATS_NAMESPACE: namespace,
      COLLECTOR_PORT: String(port),
      COLLECTOR_HOST: '127.0.0.1',
      COLLECTOR_ROLE: 'all',
    });
    api = `http://127.0.0.1:${port}`;
    await eventually(
      async () => ((await fetch(`${api}/readyz`)).status === 200 ? true : undefined),
      60_000,
      `collector ready (${collector.log()})`,
    );
    // A vLLM engine on this node, serving a real vLLM scrape.
    const body = fs.readFileSync(
      path.join(FIXTURES_DIR, 'vllm', 'vllm-v1-qwen2.5-0.5b.k8s-ai-conformance-kops.metrics.txt'),
      'utf8',
    );
    engine = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(body));
    await new Promise<void>((r) => engine.listen(0, '127.0.0.1', r));
    engineUrl = `http://127.0.0.1:${(engine.address() as AddressInfo).port}/metrics`;
  }, 120_000);

  afterAll(async () => {
    await collector.stop();
    await new Promise((r) => engine.close(r));
    await deleteStreams(TEST_NATS_URL, namespace);
    await db.drop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  async function query(q: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
    const res = await authFetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as VectorResult;
    expect([res.status, body.status, body]).toEqual([200, 'success', expect.anything()]);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  it("stores the agent's GPU series under dcgm-exporter's names, the engine's scrape, and an Xid as an event and a counter", async () => {
    const spool = tempDir('agent-spool-');
    const kern = path.join(tempDir('agent-kern-'), 'kern.log');
    dirs.push(spool, path.dirname(kern));
    fs.writeFileSync(kern, '[    1.000000] Linux version 6.1.0\n');
    const yaml = `cluster: c1\nlogs:\n  - { name: kern, kind: kernel, path: ${kern} }\nscrape:\n  - { job: vllm, url: "${engineUrl}" }\n`;
    const agent = await startAgent(
      'h100x8',
      { NATS_URL: TEST_NATS_URL, NATS_NAMESPACE: namespace, AGENT_SPOOL_DIR: spool },
      { yaml, disableTimer: true },
    );
    try {
      await eventually(() => (agent.delivery.connected() ? true : undefined), 20_000, 'NATS');
      await agent.loop.tick();
      fs.appendFileSync(
        kern,
        '[ 8123.456789] NVRM: Xid (PCI:0000:5d:00): 79, pid=2871, name=python3, GPU has fallen off the bus.\n',
      );
      await new Promise((r) => setTimeout(r, 5));
      await agent.loop.tick();
      expect(agent.delivery.spool.stats().pendingRecords).toBe(0);
    } finally {
      await agent.close();
    }

    const events = await readStream(TEST_NATS_URL, namespace, 'node');
    expect(events).toHaveLength(1);
    expect(events[0]!.subject).toBe('aw.node.v1.gpu-errors.c1.gpu-node-001');
    const data = nodeGpuErrorV1Schema.parse(events[0]!.event.data);
    expect(data).toMatchObject({ kind: 'xid', xid: 79, pid: 2871, processName: 'python3', pciAddress: '0000:5d:00' });
    expect(data.gpu).toMatchObject({
      gpu: '3',
      UUID: 'GPU-4f1c2b03-8e7a-4c1d-9b3e-2a6f0d5c0003',
      Hostname: 'gpu-node-001',
    });

    const util = await eventually(
      async () => {
        const r = await query('DCGM_FI_DEV_GPU_UTIL{Hostname="gpu-node-001"}');
        return r.length === 8 ? r : undefined;
      },
      30_000,
      'GPU utilisation series',
    );
    expect(util.map((s) => s.value).sort((a, b) => a - b)).toEqual([80, 81, 82, 83, 84, 85, 86, 87]);
    expect(util[0]!.metric).toMatchObject({
      job: 'arcwatch-agent',
      instance: 'gpu-node-001',
      modelName: 'NVIDIA H100 80GB HBM3',
      DCGM_FI_DRIVER_VERSION: '550.90.07',
    });

    // The XID rule of a dcgm-exporter setup, and the agent's own counter, on GPU 3 only.
    const xidRule = await eventually(
      async () => {
        const r = await query('DCGM_FI_DEV_XID_ERRORS > 0');
        return r.length > 0 ? r : undefined;
      },
      30_000,
      'the batch with the Xid',
    );
    expect(xidRule.map((s) => [s.metric.gpu, s.value])).toEqual([['3', 79]]);
    expect((await query('arcwatch_gpu_xid_errors_total')).map((s) => [s.metric.gpu, s.metric.xid, s.value])).toEqual([
      ['3', '79', 1],
    ]);
    // The fleet's own GPU rules (infra/rules/llm-fleet.rules.yml) read the agent's series as they read dcgm-exporter's.
    const rules = new Map(
      loadRuleFiles([path.join(REPO_ROOT, 'infra', 'rules', 'llm-fleet.rules.yml')]).flatMap((g) =>
        g.alerting.map((r) => [r.alert, r.expr]),
      ),
    );
    expect((await query(rules.get('GpuXidError')!)).map((s) => [s.metric.Hostname, s.metric.gpu, s.value])).toEqual([
      ['gpu-node-001', '3', 79],
    ]);
    expect(await query(rules.get('GpuTemperatureHigh')!)).toEqual([]);
    expect(await query(rules.get('GpuWentSilent')!)).toEqual([]);
    // The power-capped GPU's throttle reason, as a rule would ask for it.
    expect(
      (await query('arcwatch_gpu_clock_event_reason_active{reason="sw_power_cap"} == 1')).map((s) => s.metric.gpu),
    ).toEqual(['3']);

    // The engine's own series, scraped by the agent, stored as the engine wrote them.
    const running = await query('vllm:num_requests_running');
    expect(running.length).toBeGreaterThan(0);
    expect(running[0]!.metric).toMatchObject({ job: 'vllm' });
    expect((await query('up{job="vllm"}')).map((s) => s.value)).toEqual([1]);
  }, 120_000);

  it('keeps MIG slices apart end to end, with their GPU_I_ID and GPU_I_PROFILE', async () => {
    const spool = tempDir('agent-spool-');
    dirs.push(spool);
    const agent = await startAgent(
      'a100-mig',
      {
        NATS_URL: TEST_NATS_URL,
        NATS_NAMESPACE: namespace,
        AGENT_SPOOL_DIR: spool,
        AGENT_HOSTNAME: 'mig-node',
      },
      { disableTimer: true },
    );
    try {
      await eventually(() => (agent.delivery.connected() ? true : undefined), 20_000, 'NATS');
      await agent.loop.tick();
    } finally {
      await agent.close();
    }
    const slices = await eventually(
      async () => {
        const r = await query('DCGM_FI_DEV_FB_USED{Hostname="mig-node", GPU_I_ID!=""}');
        return r.length === 3 ? r : undefined;
      },
      30_000,
      'MIG slice series',
    );
    expect(slices.map((s) => [s.metric.GPU_I_ID, s.metric.GPU_I_PROFILE, s.value]).sort()).toEqual([
      ['1', '3g.40gb', 20480],
      ['13', '1g.10gb', 1028],
      ['5', '2g.20gb', 9830],
    ]);
    const inventory = await query('arcwatch_gpu_slot_info{Hostname="mig-node"}');
    expect(inventory.map((s) => s.metric.slot_kind).sort()).toEqual(['mig', 'mig', 'mig', 'mig_parent']);
  }, 120_000);

  it("puts an engine's CUDA OOM on the MIG slice and replica it was given, as an event and a counter", async () => {
    const spool = tempDir('agent-spool-');
    const logDir = tempDir('agent-engine-');
    dirs.push(spool, logDir);
    const engineLog = path.join(logDir, 'vllm.log');
    fs.writeFileSync(engineLog, 'INFO 12-03 17:00:00 api_server.py:1] vLLM API server started\n');
    // The engine was given the 1g.10gb slice (GI 13), shared as replica 1.
    const yaml = [
      'cluster: c1',
      'logs:',
      `  - { name: vllm-small, kind: engine, engine: vllm, path: ${engineLog}, devices: [MIG-f2e97d10-3c4b-58a6-b0e1-6d2c8a5f9b07], replica: "1" }`,
      '',
    ].join('\n');
    const agent = await startAgent(
      'a100-mig',
      { NATS_URL: TEST_NATS_URL, NATS_NAMESPACE: namespace, AGENT_SPOOL_DIR: spool, AGENT_HOSTNAME: 'mig-node-2' },
      { yaml, disableTimer: true },
    );
    try {
      await eventually(() => (agent.delivery.connected() ? true : undefined), 20_000, 'NATS');
      await agent.loop.tick();
      fs.appendFileSync(
        engineLog,
        'ERROR 12-03 17:00:05 engine.py:160] torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 9.50 GiB of which 120.00 MiB is free.\n',
      );
      await agent.loop.tick();
    } finally {
      await agent.close();
    }
    const events = (await readStream(TEST_NATS_URL, namespace, 'node')).filter((e) =>
      e.subject.endsWith('.mig-node-2'),
    );
    expect(events).toHaveLength(1);
    const data = nodeGpuErrorV1Schema.parse(events[0]!.event.data);
    expect(data).toMatchObject({
      kind: 'cuda_oom',
      xid: null,
      source: { kind: 'engine', name: 'vllm-small', engine: 'vllm' },
    });
    expect(data.gpu).toEqual({
      gpu: '0',
      UUID: 'GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77',
      pci_bus_id: '00000000:07:00.0',
      device: 'nvidia0',
      modelName: 'NVIDIA A100-SXM4-80GB',
      Hostname: 'mig-node-2',
      GPU_I_ID: '13',
      GPU_I_PROFILE: '1g.10gb',
      gpu_replica: '1',
    });
    const oom = await eventually(
      async () => {
        const r = await query('arcwatch_gpu_engine_errors_total{Hostname="mig-node-2"}');
        return r.length > 0 ? r : undefined;
      },
      30_000,
      'engine error counter',
    );
    expect(oom.map((s) => [s.metric.kind, s.metric.engine, s.metric.GPU_I_ID, s.metric.gpu_replica, s.value])).toEqual([
      ['cuda_oom', 'vllm', '13', '1', 1],
    ]);
  }, 120_000);

  it('marks the series of a GPU that disappeared stale at once (GPU fallen off the bus)', async () => {
    const spool = tempDir('agent-spool-');
    const scenario = tempDir('agent-scn-');
    dirs.push(spool, scenario);
    for (const f of ['query-gpu.csv', 'q-x.xml', 'L.txt'])
      fs.copyFileSync(path.join(path.dirname(STAND_IN), 'h100x8', f), path.join(scenario, f));
    const agent = await startAgent(
      scenario,
      {
        NATS_URL: TEST_NATS_URL,
        NATS_NAMESPACE: namespace,
        AGENT_SPOOL_DIR: spool,
        AGENT_HOSTNAME: 'lost-gpu-node',
        AGENT_INTERVAL_MS: '300',
      },
      { disableTimer: true },
    );
    try {
      await eventually(() => (agent.delivery.connected() ? true : undefined), 20_000, 'NATS');
      await agent.loop.tick();
      await eventually(
        async () => ((await query('DCGM_FI_DEV_GPU_TEMP{Hostname="lost-gpu-node"}')).length === 8 ? true : undefined),
        30_000,
        '8 GPUs',
      );
      // GPU 7 is no longer listed by nvidia-smi.
      const csv = path.join(scenario, 'query-gpu.csv');
      fs.writeFileSync(
        csv,
        fs
          .readFileSync(csv, 'utf8')
          .split('\n')
          .filter((l) => !l.startsWith('7, '))
          .join('\n'),
      );
      await new Promise((r) => setTimeout(r, 1500));
      await agent.loop.tick();
    } finally {
      await agent.close();
    }
    const left = await eventually(
      async () => {
        const r = await query('DCGM_FI_DEV_GPU_TEMP{Hostname="lost-gpu-node"}');
        return r.length === 7 ? r : undefined;
      },
      30_000,
      'GPU 7 gone from the instant query',
    );
    expect(left.map((s) => s.metric.gpu).sort()).toEqual(['0', '1', '2', '3', '4', '5', '6']);
  }, 120_000);
});
