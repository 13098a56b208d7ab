import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { alertFingerprint } from '@arcwatch/contracts';
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
import { StandIn } from './testing/notifier-test-kit';

/**
 * The API and the worker as separate processes on one database and one Redis: alerts posted to
 * the API process are dispatched and escalated by the worker process; the acknowledgement made
 * through the API stops the worker's escalation.
 */
describe('NOTIFIER_ROLE=api and NOTIFIER_ROLE=worker as two processes', () => {
  let db: TestDatabase;
  let api: RunningProcess | undefined;
  let worker: RunningProcess | undefined;
  const pd = new StandIn();
  const ns = testNamespace();
  const prefix = `aw-test-${ns}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-roles-'));
  let apiPort = 0;

  const env = (role: string, port: number): Record<string, string> => ({
    DATABASE_URL: db.url,
    NATS_URL: TEST_NATS_URL,
    NATS_NAMESPACE: ns,
    REDIS_URL: TEST_REDIS_URL,
    NOTIFIER_REDIS_PREFIX: prefix,
    NOTIFIER_PORT: String(port),
    NOTIFIER_HOST: '127.0.0.1',
    NOTIFIER_CONFIG: path.join(dir, 'am.yml'),
    NOTIFIER_ROLE: role,
    NOTIFIER_TICK_MS: '100',
    LOG_LEVEL: 'warn',
    ...TEST_AUTH_ENV,
  });
  const ready = (p: RunningProcess, port: number) =>
    eventually(
      async () =>
        (await fetch(`http://127.0.0.1:${port}/readyz`)
          .then((r) => r.ok)
          .catch(() => false)) || undefined,
      80_000,
      `${p.name} ready\n${p.log().slice(-2000)}`,
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    const base = await pd.start();
    writeFileSync(
      path.join(dir, 'am.yml'),
      `route:
  receiver: hook
  group_wait: 100ms
receivers:
  - name: hook
    webhook_configs: [{ url: '${base}/hook' }]
  - name: l1
    pagerduty_configs: [{ routing_key: k1, url: '${base}/l1' }]
  - name: l2
    pagerduty_configs: [{ routing_key: k2, url: '${base}/l2' }]
arcwatch:
  escalation_policies:
    - name: p0
      matchers: ['severity="P0"']
      levels:
        - { delay: 0s, targets: [l1] }
        - { delay: 3s, targets: [l2] }
`,
    );
    apiPort = await freePort();
    const workerPort = await freePort();
    // One after the other: the first migrates the fresh database, the second finds it done.
    api = startProcess('notifier-api', 'services/notifier/src/main.ts', [], env('api', apiPort));
    await ready(api, apiPort);
    worker = startProcess('notifier-worker', 'services/notifier/src/main.ts', [], env('worker', workerPort));
    await ready(worker, workerPort);
  }, 180_000);

  afterAll(async () => {
    await api?.stop();
    await worker?.stop();
    await pd.stop();
    const redis = new Redis(TEST_REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('dispatches and escalates what the API took in, and the API acknowledgement stops the escalation', async () => {
    const labels = { alertname: 'SplitRoles', severity: 'P0' };
    const res = await fetch(`http://127.0.0.1:${apiPort}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders() },
      body: JSON.stringify([{ labels }]),
    });
    expect(res.status).toBe(200);
    await eventually(() => pd.on('/hook')[0], 30_000, 'route webhook from the worker');
    await eventually(() => pd.on('/l1')[0], 30_000, 'level 1 page from the worker');
    const groups = (await (
      await fetch(`http://127.0.0.1:${apiPort}/api/v2/alerts/groups`, { headers: authHeaders() })
    ).json()) as {
      alerts: { fingerprint: string }[];
    }[];
    expect(groups.flatMap((g) => g.alerts.map((a) => a.fingerprint))).toEqual([alertFingerprint(labels)]);
    const ack = await fetch(`http://127.0.0.1:${apiPort}/api/v1/alerts/${alertFingerprint(labels)}/acknowledge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders() },
      body: JSON.stringify({ by: 'sre' }),
    });
    expect(ack.status).toBe(200);
    await new Promise((r) => setTimeout(r, 5000));
    expect(pd.on('/l2')).toHaveLength(0);
    expect(pd.on('/l1').map((r) => r.body.event_action)).toEqual(['trigger', 'acknowledge']);
    expect(pd.on('/hook')).toHaveLength(1);
  }, 90_000);
});
