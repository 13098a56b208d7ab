/**
 * Editing the routing file over NATS request/reply (what the console's editor sends), against
 * real PostgreSQL, NATS and Redis: a file Alertmanager would refuse is answered with its line,
 * column and field and nothing is written; a good one is written and the next alert is routed
 * by it, to the new receiver.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import { configFileSubjects, type ApplyConfigFileReplyV1, type ConfigFilesReplyV1 } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import {
  authHeaders,
  createTestDatabase,
  eventually,
  testNamespace,
  TEST_REDIS_URL,
  type TestDatabase,
} from '@arcwatch/testing';
import { createNotifierApp } from '../app';
import { StandIn, testConfig } from '../testing/notifier-test-kit';

const routing = (hook: string, receiver: string) =>
  [
    'route:',
    `  receiver: ${receiver}`,
    '  group_by: [alertname]',
    '  group_wait: 100ms',
    '  group_interval: 1s',
    'receivers:',
    '  - name: team',
    '    webhook_configs:',
    `      - url: ${hook}/team`,
    '  - name: platform',
    '    webhook_configs:',
    `      - url: ${hook}/platform`,
    'arcwatch:',
    '  escalation_policies:',
    `    - { name: p0, matchers: ['severity="P0"'], ack_timeout: 1h, levels: [{ delay: 0s, targets: [${receiver}] }] }`,
    '',
  ].join('\n');

describe('notifier: routing file edited over NATS request/reply', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let bus: EventBus;
  let hook = '';
  const standIn = new StandIn();
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-notifier-edit-'));
  const file = path.join(dir, 'notifier.yml');
  const subjects = configFileSubjects('notifier');

  const ask = async <T>(subject: string, body: unknown): Promise<T> =>
    (await bus.nc.request(bus.naming.toWire(subject), JSON.stringify(body), { timeout: 10_000 })).json<T>();
  const apply = (text: string) => ask<ApplyConfigFileReplyV1>(subjects.apply, { file, text, actor: 'test-editor' });
  const postAlert = (alertname: string) =>
    app
      .getHttpAdapter()
      .getInstance()
      .inject({
        method: 'POST',
        url: '/api/v2/alerts',
        headers: authHeaders(),
        payload: [{ labels: { alertname }, annotations: {}, startsAt: new Date().toISOString() }],
      });

  beforeAll(async () => {
    db = await createTestDatabase();
    hook = await standIn.start();
    writeFileSync(file, routing(hook, 'team'));
    app = await createNotifierApp({ config: testConfig(db.url, ns, { NOTIFIER_CONFIG: file }) });
    await app.init();
    bus = await EventBus.connect({ name: 'notifier-edit-test', namespace: ns });
  });

  afterAll(async () => {
    await app?.close();
    await bus?.drain();
    await standIn.stop();
    await db?.drop();
    const redis = new Redis(TEST_REDIS_URL);
    const keys = await redis.keys(`aw-test-${ns}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the routing file', async () => {
    const reply = await ask<ConfigFilesReplyV1>(subjects.read, {});
    expect(reply.files).toEqual([{ kind: 'routing', file, text: routing(hook, 'team') }]);
  });

  it('refuses a route to a receiver that does not exist, with its line, and writes nothing', async () => {
    const reply = await apply(routing(hook, 'nobody'));
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.errors).toHaveLength(1);
    expect(reply.errors[0]).toMatchObject({ file, message: expect.stringContaining('nobody') });
    expect(reply.errors[0].line).toBeGreaterThan(0);
    const bad = await apply(`${routing(hook, 'team')}  - : [\n`);
    expect(bad).toMatchObject({ ok: false, errors: [{ file, field: '(yaml)' }] });
    expect(readFileSync(file, 'utf8')).toBe(routing(hook, 'team'));
  });

  it('writes a good file and routes the next alert by it', async () => {
    await postAlert('Before');
    await eventually(
      async () => (standIn.received.some((r) => r.path === '/team') ? true : undefined),
      15_000,
      'the first alert at the team receiver',
    );
    const reply = await apply(routing(hook, 'platform'));
    expect(reply).toEqual({ ok: true, file, summary: '2 receivers, 1 escalation policy' });
    expect(readFileSync(file, 'utf8')).toBe(routing(hook, 'platform'));
    await postAlert('After');
    const got = await eventually(
      // The dispatcher regroups on new routes, so 'Before' may reach /platform first; wait for 'After'.
      async () =>
        standIn.received.find(
          (r) =>
            r.path === '/platform' &&
            (r.body.alerts as Array<{ labels: Record<string, string> }>).some((a) => a.labels.alertname === 'After'),
        ) ?? undefined,
      15_000,
      'the next alert at the platform receiver',
    );
    expect((got.body.alerts as Array<{ labels: Record<string, string> }>).map((a) => a.labels.alertname)).toEqual(
      expect.arrayContaining(['After']),
    );
  });
});
