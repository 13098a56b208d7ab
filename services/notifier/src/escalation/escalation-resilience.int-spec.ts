import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import {
  TEST_AUTH_ENV,
  authHeaders,
  createTestDatabase,
  eventually,
  freePort,
  startProcess,
  testNamespace,
  TEST_NATS_URL,
  TEST_REDIS_URL,
  type RunningProcess,
  type TestDatabase,
} from '@arcwatch/testing';
import { StandIn } from '../testing/notifier-test-kit';

/**
 * Escalation timers across process deaths, with the service as its own process: Redis flushed
 * mid-escalation (the reconciler re-arms from PostgreSQL), kill -9 mid-escalation, and a graceful
 * restart. Every level of every alert pages exactly once: nothing lost, nothing repeated.
 */
describe('escalation survives Redis flushes, kill -9 and restarts (service as a process)', () => {
  let db: TestDatabase;
  let proc: RunningProcess | undefined;
  let port = 0;
  const pd = new StandIn();
  const ns = testNamespace();
  const prefix = `aw-test-${ns}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-resilience-'));
  const redis = new Redis(TEST_REDIS_URL);

  const start = async (): Promise<RunningProcess> => {
    const p = startProcess('notifier', 'services/notifier/src/main.ts', [], {
      DATABASE_URL: db.url,
      NATS_URL: TEST_NATS_URL,
      NATS_NAMESPACE: ns,
      REDIS_URL: TEST_REDIS_URL,
      NOTIFIER_REDIS_PREFIX: prefix,
      NOTIFIER_PORT: String(port),
      NOTIFIER_HOST: '127.0.0.1',
      NOTIFIER_CONFIG: path.join(dir, 'am.yml'),
      NOTIFIER_TICK_MS: '100',
      NOTIFIER_RECONCILE_INTERVAL_MS: '500',
      NOTIFIER_CONSUME_ALERTS: 'false',
      LOG_LEVEL: 'warn',
      ...TEST_AUTH_ENV,
    });
    await eventually(
      async () =>
        (await fetch(`http://127.0.0.1:${port}/readyz`)
          .then((r) => r.ok)
          .catch(() => false)) || undefined,
      60_000,
      `notifier ready\n${p.log()}`,
    );
    return p;
  };
  const post = (alertname: string) =>
    fetch(`http://127.0.0.1:${port}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders() },
      body: JSON.stringify([
        { labels: { alertname, severity: 'P0' }, endsAt: new Date(Date.now() + 3600_000).toISOString() },
      ]),
    });
  const pages = (level: number, alertname: string) =>
    pd
      .on(`/l${level}`)
      .filter(
        (r) =>
          r.body.event_action === 'trigger' &&
          String((r.body.payload as { summary: string }).summary).includes(alertname),
      );
  const waitPage = (level: number, alertname: string) =>
    eventually(
      () => (pages(level, alertname).length > 0 ? pages(level, alertname)[0] : undefined),
      60_000,
      `${alertname} level ${level}`,
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    port = await freePort();
    const base = await pd.start();
    const levels = [1, 2, 3]
      .map(
        (l) => `  - name: l${l}\n    pagerduty_configs:\n      - routing_key: key-${l}\n        url: ${base}/l${l}\n`,
      )
      .join('');
    writeFileSync(
      path.join(dir, 'am.yml'),
      `route:
  receiver: l1
  group_wait: 1h
receivers:
${levels}arcwatch:
  escalation_policies:
    - name: p0
      matchers: ['severity="P0"']
      levels:
        - { delay: 0s, targets: [l1] }
        - { delay: 4s, targets: [l2] }
        - { delay: 4s, targets: [l3] }
`,
    );
    proc = await start();
  }, 120_000);

  afterAll(async () => {
    await proc?.stop();
    await pd.stop();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Redis loses its data after level 1: the reconciler re-creates the timer and level 2 pages on time, once', async () => {
    expect((await post('FlushedRedis')).status).toBe(200);
    const l1 = await waitPage(1, 'FlushedRedis');
    const keys = await redis.keys(`${prefix}:*`);
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys);
    const l2 = await waitPage(2, 'FlushedRedis');
    expect(l2.at - l1.at).toBeGreaterThanOrEqual(3500);
    expect(l2.at - l1.at).toBeLessThan(9000);
  }, 90_000);

  it('kill -9 mid-escalation: after the restart the next level pages once and no level repeats', async () => {
    await waitPage(3, 'FlushedRedis');
    expect((await post('KilledProcess')).status).toBe(200);
    await waitPage(1, 'KilledProcess');
    await proc?.stop('SIGKILL');
    proc = await start();
    await waitPage(2, 'KilledProcess');
    await waitPage(3, 'KilledProcess');
  }, 120_000);

  it('graceful restart mid-escalation: the timer waits in Redis and fires after the restart', async () => {
    expect((await post('Restarted')).status).toBe(200);
    await waitPage(1, 'Restarted');
    await proc?.stop('SIGTERM');
    proc = await start();
    await waitPage(2, 'Restarted');
    await waitPage(3, 'Restarted');
  }, 120_000);

  it('every level of every alert paged exactly once', async () => {
    // Wait past any timer that could still (wrongly) fire.
    await new Promise((r) => setTimeout(r, 5000));
    for (const name of ['FlushedRedis', 'KilledProcess', 'Restarted']) {
      for (const level of [1, 2, 3]) {
        const got = pages(level, name);
        // A page in flight when the process died is sent again after the restart as the same
        // notification: same body, same dedup_key and Idempotency-Key, which PagerDuty folds into
        // the open incident. A different notification for the same level would be a second page.
        expect({ name, level, notifications: new Set(got.map((p) => p.headers['idempotency-key'])).size }).toEqual({
          name,
          level,
          notifications: 1,
        });
        expect(new Set(got.map((p) => p.raw)).size).toBe(1);
      }
    }
  }, 30_000);
});
