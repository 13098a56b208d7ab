/**
 * Alerts POSTed to a real Alertmanager (Debian's prometheus-alertmanager 0.25) as Prometheus
 * does: a firing alert appears there with our labels, annotations, startsAt and generatorURL and
 * with the fingerprint we compute; once it resolves, the resolved POST (endsAt in the past) takes
 * it out of the active list. NATS and PostgreSQL are the real ones.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { alertFingerprint } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { CLOCK, type ManualClock } from '@arcwatch/runtime';
import {
  authHeaders,
  createTestDatabase,
  eventually,
  freePort,
  getJson,
  startPeer,
  testNamespace,
  TestClock,
  type RunningProcess,
  type TestDatabase,
} from '@arcwatch/testing';
import { createAnomalyApp } from '../app';
import { publishVllmUp, tearDown, testConfig } from '../testing/anomaly-test-kit';

const ALERTMANAGER = ['/usr/bin/prometheus-alertmanager', '/usr/bin/alertmanager'].find((p) => existsSync(p));
// Without Debian's prometheus-alertmanager installed there is no peer to post to.
const describePeer = ALERTMANAGER ? describe : describe.skip;

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  generatorURL: string;
  fingerprint: string;
  status: { state: string };
}

describePeer('anomaly → real Alertmanager /api/v2/alerts', () => {
  let db: TestDatabase;
  let bus: EventBus;
  let app: NestFastifyApplication;
  let am: RunningProcess;
  let amUrl: string;
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'anomaly-am-'));
  // Wall-clock time, a minute back: Alertmanager judges endsAt against its own clock, and a
  // resolved alert whose endsAt (T0 + 1 s here) is still ahead of that clock is merged as firing,
  // keeping the firing alert's later endsAt (seen when the spec ran within a second of loading).
  const T0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;

  beforeAll(async () => {
    const port = await freePort();
    const cluster = await freePort();
    amUrl = `http://127.0.0.1:${port}`;
    writeFileSync(
      path.join(dir, 'am.yml'),
      'route:\n  receiver: none\n  group_wait: 0s\n  group_interval: 1s\nreceivers:\n  - name: none\n',
    );
    am = startPeer(ALERTMANAGER as string, [
      `--config.file=${path.join(dir, 'am.yml')}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--cluster.listen-address=127.0.0.1:${cluster}`,
    ]);
    await eventually(
      async () => ((await fetch(`${amUrl}/-/ready`).catch(() => undefined))?.ok ? true : undefined),
      20_000,
      'alertmanager ready',
    );
    const rules = path.join(dir, 'rules.yml');
    writeFileSync(
      rules,
      'groups:\n  - name: vllm\n    rules:\n      - alert: InferenceServiceDown\n        expr: up{job="vllm"} == 0\n        labels: { severity: P0, team: inference }\n        annotations: { summary: "{{ $labels.instance }} is down" }\n',
    );
    db = await createTestDatabase();
    bus = await EventBus.connect({ name: 'anomaly-am-test', namespace: ns });
    app = await createAnomalyApp({
      config: testConfig(db.url, ns, {
        ANOMALY_RULE_FILES: rules,
        ANOMALY_ALERTMANAGER_URL: amUrl,
        ANOMALY_EXTERNAL_URL: 'http://anomaly.test:8084',
      }),
      clock: new TestClock(T0),
    });
    await app.init();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await am?.stop();
    await tearDown({ bus, db });
  });

  const push = (atMs: number, value: number, id: string) => publishVllmUp(bus, id, atMs, value);
  const amAlerts = async () => (await getJson<AmAlert[]>(`${amUrl}/api/v2/alerts`)).body;

  it('a firing alert reaches Alertmanager with its fingerprint; the resolved one leaves it', async () => {
    await push(T0, 0, 'am-1');
    const [alert] = await eventually(
      async () => {
        const a = await amAlerts();
        return a.length === 1 ? a : undefined;
      },
      30_000,
      'alert in Alertmanager',
    );
    const labels = {
      alertname: 'InferenceServiceDown',
      instance: 'node-1:8000',
      job: 'vllm',
      severity: 'P0',
      team: 'inference',
    };
    expect(alert).toMatchObject({
      labels,
      annotations: { summary: 'node-1:8000 is down' },
      status: { state: 'active' },
      fingerprint: alertFingerprint(labels),
    });
    expect(Date.parse(alert.startsAt)).toBe(T0);
    expect(alert.generatorURL).toBe(
      `http://anomaly.test:8084/graph?g0.expr=${encodeURIComponent('up{job="vllm"} == 0')}&g0.tab=1`,
    );

    await app.get<ManualClock>(CLOCK).advanceTo(T0 + 1_000);
    await push(T0 + 1_000, 1, 'am-2');
    let left: AmAlert[] = [];
    await eventually(
      async () => ((left = await amAlerts()).length === 0 ? true : undefined),
      // Generous: on a loaded 2-core machine the consumer can take seconds to reach the batch.
      30_000,
      'resolved alert gone from the active list',
    ).catch(async (err: Error) => {
      // What Alertmanager still holds, and what the service says it evaluated and sent.
      const metrics = await app
        .getHttpAdapter()
        .getInstance()
        .inject({ method: 'GET', url: '/metrics', headers: authHeaders() });
      const ours = metrics.body
        .split('\n')
        .filter((l) => /^arcwatch_anomaly_(alert|rule|batches|alertmanager)/.test(l));
      throw new Error(
        `${err.message}; Alertmanager holds ${JSON.stringify(left)}; T0 ${new Date(T0).toISOString()}, now ${new Date().toISOString()}\n${ours.join('\n')}`,
      );
    });
  }, 90_000);
});
