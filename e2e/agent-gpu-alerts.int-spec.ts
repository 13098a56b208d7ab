/**
 * The fleet's GPU rules fire on the node agent's series, end to end: two agents (an 8× H100 node
 * with a hot GPU, a full GPU and an Xid in its kernel log; an A100 node whose smallest MIG slice
 * is full) read the stand-in nvidia-smi and publish to the shared NATS; the collector (its own
 * process) stores what they send; the anomaly service, with infra/rules/llm-fleet.rules.yml as
 * it ships, evaluates the same stream and publishes the alerts. Time is the test's: both agents
 * and the anomaly service run on one manual clock, so the rules' `for: 5m` and `for: 10m` pass in
 * seconds.
 *
 * Beside e2e/ because it drives two services (the agent in-process, the anomaly service through
 * its app factory, which only e2e/ may import); an integration spec by its suffix.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { nodeGpuErrorV1Schema, type AlertV1 } from '@arcwatch/contracts';
import { MetricsRegistry } from '@arcwatch/runtime';
import { createAnomalyApp, loadAnomalyConfig, RulesService } from '@arcwatch/service-anomaly';
import {
  authFetch,
  createTestDatabase,
  eventually,
  freePort,
  REPO_ROOT,
  startProcess,
  TEST_AUTH_ENV,
  TEST_NATS_URL,
  TestClock,
  testNamespace,
  type RunningProcess,
  type TestDatabase,
} from '@arcwatch/testing';
import {
  deleteStreams,
  readStream,
  STAND_IN,
  startAgent,
  tempDir,
  type AgentUnderTest,
} from '../services/agent/src/testing/agent-harness';

const RULES = path.join(REPO_ROOT, 'infra', 'rules', 'llm-fleet.rules.yml');
const STEP_MS = 60_000;
/** 12 minutes of readings: past GpuMemoryNearlyFull's `for: 10m`. */
const STEPS = 12;
// Whole minutes in the recent past, so the collector stores them as it stores any fresh sample.
const T0 = Math.floor(Date.now() / STEP_MS) * STEP_MS - (STEPS + 3) * STEP_MS;

const HOT_HOST = 'gpu-node-hot';
const MIG_HOST = 'mig-node-full';
const H100_UUID = (i: number) => `GPU-4f1c2b0${i}-8e7a-4c1d-9b3e-2a6f0d5c000${i}`;
const A100_UUID = 'GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77';

/**
 * A stand-in scenario of the test's own (a copy of `base`, changed by `edit`), and an nvidia-smi
 * wrapper that reads it: two agents in one process cannot share NVIDIA_SMI_FIXTURE.
 */
function scenario(base: string, edit: (dir: string) => void): { dir: string; binary: string } {
  const dir = tempDir('agent-alerts-scn-');
  const from = path.join(path.dirname(STAND_IN), base);
  for (const f of fs.readdirSync(from)) fs.copyFileSync(path.join(from, f), path.join(dir, f));
  edit(dir);
  const binary = path.join(dir, 'nvidia-smi');
  fs.writeFileSync(binary, `#!/usr/bin/env bash\nNVIDIA_SMI_FIXTURE='${dir}' exec '${STAND_IN}' "$@"\n`, {
    mode: 0o755,
  });
  return { dir, binary };
}

/** Sets columns of one GPU's row in query-gpu.csv (by field name). */
function setGpuFields(dir: string, index: number, values: Record<string, string>): void {
  const file = path.join(dir, 'query-gpu.csv');
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const fields = lines[0]!.replace(/^# fields:\s*/, '').split(',');
  const out = lines.map((l) => {
    if (!l.startsWith(`${index}, `)) return l;
    const cols = l.split(', ');
    for (const [k, v] of Object.entries(values)) cols[fields.indexOf(k)] = v;
    return cols.join(', ');
  });
  fs.writeFileSync(file, out.join('\n'));
}

interface PromVector {
  status: string;
  data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

describe('agent → NATS → collector and anomaly: the GPU rules fire with the GPU labels', () => {
  const namespace = testNamespace();
  const clock = new TestClock(T0);
  const dirs: string[] = [];
  let db: TestDatabase;
  let collector: RunningProcess;
  let api: string;
  let anomaly: NestFastifyApplication;
  const agents: AgentUnderTest[] = [];

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
      async () => ((await fetch(`${api}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined),
      60_000,
      `collector ready (${collector.log()})`,
    );
    // Started before the agents publish: its consumer takes new messages only.
    anomaly = await createAnomalyApp({
      config: loadAnomalyConfig({
        ...TEST_AUTH_ENV,
        DATABASE_URL: db.url,
        NATS_URL: TEST_NATS_URL,
        NATS_NAMESPACE: namespace,
        ANOMALY_PORT: '0',
        ANOMALY_DEBOUNCE_MS: '0',
        ANOMALY_RELOAD_CHECK_MS: '0',
        ANOMALY_RULE_FILES: RULES,
        LOG_LEVEL: 'silent',
      }),
      clock,
    });
    await anomaly.init();
  }, 120_000);

  afterAll(async () => {
    for (const a of agents) await a.close();
    await anomaly?.close();
    await collector?.stop();
    await deleteStreams(TEST_NATS_URL, namespace);
    await db?.drop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  async function query(q: string, atMs: number): Promise<Array<{ metric: Record<string, string>; value: number }>> {
    const res = await authFetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}&time=${atMs / 1000}`);
    const body = (await res.json()) as PromVector;
    expect([res.status, body.status]).toEqual([200, 'success']);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  it('GpuTemperatureHigh, GpuMemoryNearlyFull (a whole GPU and a MIG slice) and GpuXidError fire with gpu, UUID, Hostname and GPU_I_ID / GPU_I_PROFILE', async () => {
    // GPU 2 at 91 °C; GPU 5's framebuffer 98.7 % used.
    const hot = scenario('h100x8', (dir) => {
      setGpuFields(dir, 2, { 'temperature.gpu': '91' });
      setGpuFields(dir, 5, { 'memory.used': '79900', 'memory.free': '1118' });
    });
    // The 1g.10gb slice (GI 13) of the A100 nearly full: 9600 of 9728 MiB.
    const mig = scenario('a100-mig', (dir) => {
      const xml = path.join(dir, 'q-x.xml');
      fs.writeFileSync(
        xml,
        fs
          .readFileSync(xml, 'utf8')
          .replace(
            /(<total>9728 MiB<\/total>[\s\S]*?<used>)1028 MiB(<\/used>\s*<free>)8700 MiB/,
            '$19600 MiB$2128 MiB',
          ),
      );
    });
    const kern = path.join(hot.dir, 'kern.log');
    fs.writeFileSync(kern, '[    1.000000] Linux version 6.1.0\n');
    dirs.push(hot.dir, mig.dir);

    const start = async (host: string, binary: string, yaml?: string) => {
      const spool = tempDir('agent-alerts-spool-');
      dirs.push(spool);
      const a = await startAgent(
        'h100x8',
        {
          NATS_URL: TEST_NATS_URL,
          NATS_NAMESPACE: namespace,
          AGENT_SPOOL_DIR: spool,
          AGENT_HOSTNAME: host,
          AGENT_NVIDIA_SMI: binary,
        },
        { clock, disableTimer: true, ...(yaml ? { yaml } : {}) },
      );
      agents.push(a);
      await eventually(() => (a.delivery.connected() ? true : undefined), 20_000, `${host} connected`);
      // Samples each batch carries, to know when the anomaly service has taken them all.
      let sent = 0;
      const deliver = a.delivery.deliver.bind(a.delivery);
      a.delivery.deliver = (items) => {
        for (const o of items) if (o.kind === 'batch') sent += (o.event.data as { series: unknown[] }).series.length;
        return deliver(items);
      };
      return { agent: a, sent: () => sent };
    };
    const hotAgent = await start(
      HOT_HOST,
      hot.binary,
      `cluster: c1\nlogs:\n  - { name: kern, kind: kernel, path: ${kern} }\n`,
    );
    const migAgent = await start(MIG_HOST, mig.binary);

    const registry = anomaly.get(MetricsRegistry);
    const rules = anomaly.get(RulesService);
    const ingested = () => registry.value('arcwatch_anomaly_samples_ingested_total');
    for (let i = 0; i <= STEPS; i++) {
      const t = T0 + i * STEP_MS;
      await clock.advanceTo(t);
      if (i === 1)
        fs.appendFileSync(
          kern,
          '[ 8123.456789] NVRM: Xid (PCI:0000:5d:00): 79, pid=2871, name=python3, GPU has fallen off the bus.\n',
        );
      const base = await ingested();
      const before = hotAgent.sent() + migAgent.sent();
      await hotAgent.agent.loop.tick();
      await migAgent.agent.loop.tick();
      expect(hotAgent.agent.delivery.spool.stats().pendingRecords).toBe(0);
      const expected = base + hotAgent.sent() + migAgent.sent() - before;
      // The anomaly service has every sample of this minute (its own write-back only adds to the count).
      await eventually(async () => ((await ingested()) >= expected ? true : undefined), 20_000, `minute ${i} ingested`);
      await rules.evaluateAll();
    }

    const firing = await eventually(
      async () => {
        const events = (await readStream(TEST_NATS_URL, namespace, 'alerts'))
          .map((m) => m.event.data as AlertV1)
          .filter((a) => a.status === 'firing');
        const names = new Set(events.map((a) => a.labels.alertname));
        return ['GpuTemperatureHigh', 'GpuMemoryNearlyFull', 'GpuXidError'].every((n) => names.has(n))
          ? events
          : undefined;
      },
      20_000,
      'the GPU alerts on the alerts stream',
    );
    const gpuAlerts = firing
      .filter((a) => ['GpuTemperatureHigh', 'GpuMemoryNearlyFull', 'GpuXidError'].includes(a.labels.alertname!))
      .map((a) => ({
        alertname: a.labels.alertname,
        Hostname: a.labels.Hostname,
        gpu: a.labels.gpu,
        UUID: a.labels.UUID,
        GPU_I_ID: a.labels.GPU_I_ID,
        GPU_I_PROFILE: a.labels.GPU_I_PROFILE,
        severity: a.labels.severity,
        startsAt: a.startsAt,
        value: a.value,
      }))
      .sort((x, y) => `${x.alertname}/${x.Hostname}`.localeCompare(`${y.alertname}/${y.Hostname}`));
    // startsAt is when an alert began to fire: `for: 10m`, `for: 5m` and at once after the Xid line.
    const at = (ms: number) => new Date(ms).toISOString();
    expect(gpuAlerts).toEqual([
      {
        alertname: 'GpuMemoryNearlyFull',
        Hostname: HOT_HOST,
        gpu: '5',
        UUID: H100_UUID(5),
        GPU_I_ID: undefined,
        GPU_I_PROFILE: undefined,
        severity: 'P2',
        startsAt: at(T0 + 10 * STEP_MS),
        value: 79900 / (79900 + 1118),
      },
      {
        alertname: 'GpuMemoryNearlyFull',
        Hostname: MIG_HOST,
        gpu: '0',
        UUID: A100_UUID,
        GPU_I_ID: '13',
        GPU_I_PROFILE: '1g.10gb',
        severity: 'P2',
        startsAt: at(T0 + 10 * STEP_MS),
        value: 9600 / (9600 + 128),
      },
      {
        alertname: 'GpuTemperatureHigh',
        Hostname: HOT_HOST,
        gpu: '2',
        UUID: H100_UUID(2),
        GPU_I_ID: undefined,
        GPU_I_PROFILE: undefined,
        severity: 'P2',
        startsAt: at(T0 + 5 * STEP_MS),
        value: 91,
      },
      {
        alertname: 'GpuXidError',
        Hostname: HOT_HOST,
        gpu: '3',
        UUID: H100_UUID(3),
        GPU_I_ID: undefined,
        GPU_I_PROFILE: undefined,
        severity: 'P1',
        startsAt: at(T0 + STEP_MS),
        value: 79,
      },
    ]);
    // The rest of the dcgm-style labels ride along: PCI address, device, model, the agent's job.
    const xid = firing.find((a) => a.labels.alertname === 'GpuXidError')!;
    expect(xid.labels).toMatchObject({
      pci_bus_id: '00000000:5D:00.0',
      device: 'nvidia3',
      modelName: 'NVIDIA H100 80GB HBM3',
      job: 'arcwatch-agent',
      instance: HOT_HOST,
    });
    expect(xid.annotations.summary).toBe(`GPU 3 on ${HOT_HOST} reported XID 79`);

    // The Xid line is also an event on the node stream, on the GPU it names.
    const events = (await readStream(TEST_NATS_URL, namespace, 'node')).filter((e) => e.subject.endsWith(HOT_HOST));
    expect(events).toHaveLength(1);
    expect(nodeGpuErrorV1Schema.parse(events[0]!.event.data)).toMatchObject({
      kind: 'xid',
      xid: 79,
      gpu: { gpu: '3', UUID: H100_UUID(3), Hostname: HOT_HOST },
    });

    // The collector stored the same series: the slice with its own labels, the hot GPU.
    const last = T0 + STEPS * STEP_MS;
    const slice = await eventually(
      async () => {
        const r = await query(`DCGM_FI_DEV_FB_USED{Hostname="${MIG_HOST}", GPU_I_ID!=""}`, last);
        return r.length === 3 ? r : undefined;
      },
      30_000,
      'MIG slice series in the collector',
    );
    expect(slice.map((s) => [s.metric.GPU_I_ID, s.metric.GPU_I_PROFILE, s.value]).sort()).toEqual([
      ['1', '3g.40gb', 20480],
      ['13', '1g.10gb', 9600],
      ['5', '2g.20gb', 9830],
    ]);
    expect((await query(`DCGM_FI_DEV_GPU_TEMP{Hostname="${HOT_HOST}"} > 85`, last)).map((s) => s.metric.gpu)).toEqual([
      '2',
    ]);
    expect((await query('DCGM_FI_DEV_XID_ERRORS > 0', last)).map((s) => [s.metric.Hostname, s.metric.gpu])).toEqual([
      [HOT_HOST, '3'],
    ]);
  }, 300_000);
});
