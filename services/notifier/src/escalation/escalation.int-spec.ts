import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import { alertFingerprint } from '@arcwatch/contracts';
import {
  authHeaders,
  createTestDatabase,
  eventually,
  testNamespace,
  TEST_REDIS_URL,
  type TestDatabase,
} from '@arcwatch/testing';
import { createNotifierApp } from '../app';
import { pagerdutyDedupKey } from '../delivery/payloads';
import { StandIn, testConfig } from '../testing/notifier-test-kit';
import { escalationGroupKey } from './escalation.service';

/**
 * The "done" scenario against real PostgreSQL, NATS and Redis, with a local PagerDuty
 * stand-in: a P0 alert pages level 1, escalates to level 2 after its delay, stops when
 * acknowledged, and the incident resolves when the alert resolves.
 */
function amConfig(pd: string): string {
  return `
route:
  receiver: team
  group_by: [alertname]
  group_wait: 100ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: team
    webhook_configs:
      - url: ${pd}/webhook
  - name: pd-primary
    pagerduty_configs:
      - routing_key: primary-key
        url: ${pd}/primary
  - name: pd-secondary
    pagerduty_configs:
      - routing_key: secondary-key
        url: ${pd}/secondary
arcwatch:
  escalation_policies:
    - name: gpu-p0
      matchers: ['severity="P0"']
      ack_timeout: 1h
      levels:
        - { delay: 0s, targets: [pd-primary] }
        - { delay: 1500ms, targets: [pd-secondary] }
`;
}

describe('escalation end to end (PostgreSQL, NATS, Redis, PagerDuty stand-in)', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  const pd = new StandIn();
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-notifier-'));

  const http = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    app
      .getHttpAdapter()
      .getInstance()
      .inject({ method, url, payload: payload as object | undefined, headers: authHeaders() });

  beforeAll(async () => {
    db = await createTestDatabase();
    const base = await pd.start();
    writeFileSync(path.join(dir, 'am.yml'), amConfig(base));
    app = await createNotifierApp({ config: testConfig(db.url, ns, { NOTIFIER_CONFIG: path.join(dir, 'am.yml') }) });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await pd.stop();
    await db?.drop();
    const redis = new Redis(TEST_REDIS_URL);
    const keys = await redis.keys(`aw-test-${ns}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pages level 1, escalates to level 2 after its delay, stops on acknowledgement, resolves the incident when the alert resolves', async () => {
    const labels = { alertname: 'GpuFellOffBus', severity: 'P0', gpu: '3', instance: 'node-7' };
    const fp = alertFingerprint(labels);
    const t0 = Date.now();
    const posted = await http('POST', '/api/v2/alerts', [
      { labels, annotations: { summary: 'XID 79 on GPU 3' }, startsAt: new Date(t0).toISOString() },
    ]);
    expect(posted.statusCode).toBe(200);

    // Level 1 at once; the route's own webhook after group_wait.
    const first = await eventually(
      () => (pd.on('/primary').length > 0 ? pd.on('/primary')[0] : undefined),
      10_000,
      'level 1 page',
    );
    const state = await http('GET', `/api/v1/alerts/${fp}/escalation`);
    const episode = (state.json() as { escalation: { episode: string } }).escalation.episode;
    const dedup = pagerdutyDedupKey(escalationGroupKey({ fingerprint: fp, episode }));
    expect(first.body).toMatchObject({
      routing_key: 'primary-key',
      event_action: 'trigger',
      dedup_key: dedup,
      payload: { severity: 'critical' },
    });
    await eventually(() => (pd.on('/webhook').length > 0 ? true : undefined), 10_000, 'route webhook');
    expect(pd.on('/webhook')[0].body).toMatchObject({ version: '4', status: 'firing', receiver: 'team' });

    // Level 2 after its delay (1.5 s), not before.
    const second = await eventually(
      () => (pd.on('/secondary').length > 0 ? pd.on('/secondary')[0] : undefined),
      10_000,
      'level 2 page',
    );
    expect(second.at - t0).toBeGreaterThanOrEqual(1500);
    expect(second.body).toMatchObject({ routing_key: 'secondary-key', event_action: 'trigger', dedup_key: dedup });

    const ack = await http('POST', `/api/v1/alerts/${fp}/acknowledge`, { by: 'sre-on-call', comment: 'looking' });
    expect(ack.statusCode).toBe(200);
    expect((ack.json() as { escalation: { status: string } }).escalation.status).toBe('acknowledged');
    await eventually(
      () => (pd.on('/secondary').some((r) => r.body.event_action === 'acknowledge') ? true : undefined),
      10_000,
      'acknowledge',
    );
    expect(pd.on('/primary').filter((r) => r.body.event_action === 'acknowledge')).toHaveLength(1);

    const resolve = await http('POST', '/api/v2/alerts', [
      { labels, startsAt: new Date(t0).toISOString(), endsAt: new Date().toISOString() },
    ]);
    expect(resolve.statusCode).toBe(200);
    await eventually(
      () => (pd.on('/primary').some((r) => r.body.event_action === 'resolve') ? true : undefined),
      10_000,
      'resolve',
    );
    await eventually(
      () => (pd.on('/secondary').some((r) => r.body.event_action === 'resolve') ? true : undefined),
      10_000,
      'resolve level 2',
    );

    // Exactly one trigger per level: no repeated page.
    expect(pd.on('/primary').filter((r) => r.body.event_action === 'trigger')).toHaveLength(1);
    expect(pd.on('/secondary').filter((r) => r.body.event_action === 'trigger')).toHaveLength(1);
    // The route's own resolved notification may still be on its way.
    const log = await eventually(
      async () => {
        const l = (await http('GET', `/api/v1/alerts/${fp}/notifications`)).json() as {
          status: string;
          channel: string;
        }[];
        return l.every((n) => n.status === 'delivered') ? l : undefined;
      },
      10_000,
      'every notification delivered',
    );
    expect(log.filter((n) => n.channel === 'pagerduty')).toHaveLength(6);
  });
});
