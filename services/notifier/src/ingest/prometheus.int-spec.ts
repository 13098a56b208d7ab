import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import {
  TEST_ADMIN_TOKEN,
  authHeaders,
  createTestDatabase,
  eventually,
  freePort,
  startPeer,
  testNamespace,
  TEST_REDIS_URL,
  type RunningProcess,
  type TestDatabase,
} from '@arcwatch/testing';
import { createNotifierApp } from '../app';
import { StandIn, testConfig } from '../testing/notifier-test-kit';

/**
 * Debian's real Prometheus lists ArcWatch under alerting.alertmanagers unchanged and fires a
 * rule: the alert arrives through /api/v2/alerts, pages the PagerDuty stand-in through the
 * escalation policy and the route, and when Prometheus stops refreshing it the alert ends
 * (endsAt passes) and the incident is resolved.
 */
const PROMETHEUS = '/usr/bin/prometheus';

describe('a real Prometheus firing a rule at the notifier', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let prometheus: RunningProcess | undefined;
  const pd = new StandIn();
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-prom-'));

  beforeAll(async () => {
    db = await createTestDatabase();
    const base = await pd.start();
    writeFileSync(
      path.join(dir, 'am.yml'),
      `route:
  receiver: pd-route
  group_by: [alertname]
  group_wait: 100ms
  group_interval: 1s
receivers:
  - name: pd-route
    pagerduty_configs:
      - routing_key: route-key
        url: ${base}/route
  - name: pd-oncall
    pagerduty_configs:
      - routing_key: oncall-key
        url: ${base}/oncall
arcwatch:
  escalation_policies:
    - name: p0
      matchers: ['severity="P0"']
      levels:
        - { delay: 0s, targets: [pd-oncall] }
`,
    );
    app = await createNotifierApp({ config: testConfig(db.url, ns, { NOTIFIER_CONFIG: path.join(dir, 'am.yml') }) });
    const port = await freePort();
    await app.listen(port, '127.0.0.1');
    writeFileSync(
      path.join(dir, 'rules.yml'),
      `groups:
  - name: gpu
    interval: 1s
    rules:
      - alert: GpuXidError
        expr: vector(79)
        labels: { severity: P0, gpu: "3" }
        annotations: { summary: "XID {{ $value }} on GPU 3" }
`,
    );
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      `global: { evaluation_interval: 1s, external_labels: { cluster: test-lab } }
rule_files: [${path.join(dir, 'rules.yml')}]
alerting:
  alertmanagers:
    # Prometheus's own authorization setting carries the notifier's token.
    - authorization: { credentials: ${TEST_ADMIN_TOKEN} }
      static_configs:
        - targets: ['127.0.0.1:${port}']
`,
    );
    const promPort = await freePort();
    // A first send before the Alertmanager list is discovered is dropped, and Prometheus only
    // re-sends after --rules.alert.resend-delay (1 m by default): shorten it for the test.
    prometheus = startPeer(PROMETHEUS, [
      '--rules.alert.resend-delay=1s',
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await app?.close();
    await pd.stop();
    await db?.drop();
    const redis = new Redis(TEST_REDIS_URL);
    const keys = await redis.keys(`aw-test-${ns}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pages on the firing rule and resolves the incident when Prometheus stops sending it', async () => {
    const page = await eventually(() => pd.on('/oncall')[0], 30_000, 'on-call page').catch(async (e: unknown) => {
      const inject = app.getHttpAdapter().getInstance();
      const alerts = (await inject.inject({ method: 'GET', url: '/api/v2/alerts', headers: authHeaders() })).body;
      const notes = (await inject.inject({ method: 'GET', url: '/api/v1/notifications', headers: authHeaders() })).body;
      throw new Error(
        `${(e as Error).message}\nalerts: ${alerts}\nnotifications: ${notes}\nreceived: ${JSON.stringify(pd.received.map((r) => r.path))}`,
      );
    });
    expect(page.body).toMatchObject({
      routing_key: 'oncall-key',
      event_action: 'trigger',
      payload: { severity: 'critical' },
    });
    expect(String((page.body.payload as { summary: string }).summary)).toContain('GpuXidError');
    const route = await eventually(() => pd.on('/route')[0], 20_000, 'route notification');
    expect((route.body.payload as { custom_details: { firing: string } }).custom_details.firing).toContain(
      ' - cluster = test-lab',
    );

    await prometheus?.stop();
    prometheus = undefined;
    // Prometheus sent endsAt = now + 4 × evaluation interval; once it passes the alert is over.
    await eventually(() => pd.on('/oncall').find((r) => r.body.event_action === 'resolve'), 60_000, 'on-call resolve');
    await eventually(() => pd.on('/route').find((r) => r.body.event_action === 'resolve'), 60_000, 'route resolve');
    expect(pd.on('/oncall').filter((r) => r.body.event_action === 'trigger')).toHaveLength(1);
  }, 120_000);
});
