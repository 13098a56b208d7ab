import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ALERT_V1, alertEventId, alertFingerprint, alertSubject, cloudEvent, type AlertV1 } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import {
  authHeaders,
  createTestDatabase,
  eventually,
  FIXTURES_DIR,
  testNamespace,
  type TestDatabase,
} from '@arcwatch/testing';
import { createNotifierApp } from '../app';
import { StandIn, testConfig } from '../testing/notifier-test-kit';

/** Alerts in through JetStream (aw.alerts.v1.>) and through an Alertmanager webhook body. */
describe('alert intake from JetStream and from an Alertmanager webhook', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  const hook = new StandIn();
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-intake-'));

  beforeAll(async () => {
    db = await createTestDatabase();
    const base = await hook.start();
    writeFileSync(
      path.join(dir, 'am.yml'),
      `route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 50ms\n  group_interval: 300ms\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: ${base}/hook\n`,
    );
    app = await createNotifierApp({ config: testConfig(db.url, ns, { NOTIFIER_CONFIG: path.join(dir, 'am.yml') }) });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await hook.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an alert event firing, then resolved, notifies the route firing, then resolved', async () => {
    const labels = { alertname: 'KvCacheFull', severity: 'P1', team: 'serving', model: 'qwen' };
    const alert: AlertV1 = {
      fingerprint: alertFingerprint(labels),
      status: 'firing',
      labels,
      annotations: { summary: 'KV cache 99%' },
      startsAt: new Date().toISOString(),
      endsAt: null,
      generatorURL: 'http://arcwatch/rules/kv',
      value: 0.99,
      origin: { kind: 'rule', group: 'serving', name: 'KvCacheFull' },
      flapping: false,
    };
    const bus = app.get(EventBus);
    const publish = (a: AlertV1) =>
      bus.publish(
        alertSubject(a.status, a.labels),
        cloudEvent({ type: ALERT_V1, source: 'arcwatch/anomaly', id: alertEventId(a), data: a }),
      );
    await publish(alert);
    const firing = await eventually(() => hook.on('/hook')[0], 15_000, 'firing notification');
    expect(firing.body).toMatchObject({
      status: 'firing',
      alerts: [{ fingerprint: alert.fingerprint, labels, endsAt: '0001-01-01T00:00:00Z' }],
    });

    await publish({ ...alert, status: 'resolved', endsAt: new Date().toISOString() });
    const resolved = await eventually(
      () => hook.on('/hook').find((r) => r.body.status === 'resolved'),
      15_000,
      'resolved notification',
    );
    expect((resolved.body.alerts as { status: string }[])[0].status).toBe('resolved');
  });

  it('takes an Alertmanager webhook body (version 4) and shows its firing alerts in /api/v2/alerts', async () => {
    const body = JSON.parse(
      readFileSync(
        path.join(FIXTURES_DIR, 'alertmanager', 'captured-webhooks', '08-firing-group-with-one-resolved.json'),
        'utf8',
      ),
    ) as {
      alerts: { status: string; fingerprint: string }[];
    };
    const inject = app.getHttpAdapter().getInstance();
    const res = await inject.inject({
      method: 'POST',
      url: '/api/v1/alertmanager-webhook',
      payload: body,
      headers: authHeaders(),
    });
    expect(res.json()).toEqual({ alerts: 2 });
    const shown = (
      await inject.inject({
        method: 'GET',
        url: '/api/v2/alerts?filter=alertname%3D%22GpuXidError%22',
        headers: authHeaders(),
      })
    ).json() as { fingerprint: string }[];
    // Same labels, same fingerprint as the Alertmanager that sent it; the resolved one is not listed.
    expect(shown.map((a) => a.fingerprint)).toEqual(
      body.alerts.filter((a) => a.status === 'firing').map((a) => a.fingerprint),
    );
  });
});
