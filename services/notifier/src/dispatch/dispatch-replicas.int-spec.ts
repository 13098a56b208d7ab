import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import { alertFingerprint } from '@arcwatch/contracts';
import { createTestDatabase, eventually, testNamespace, TEST_REDIS_URL, type TestDatabase } from '@arcwatch/testing';
import { AlertsRepository } from '../alerts/alerts.repository';
import { createNotifierApp } from '../app';
import { StandIn, testConfig } from '../testing/notifier-test-kit';
import { DispatchLeaseRepository } from './dispatch-lease.repository';

/**
 * Two worker processes' dispatchers on one database: one holds the dispatch lease and sends each
 * group once; a change committed after a later-stamped one is still dispatched; when the holder
 * goes, the other takes over without resending what was sent.
 */
describe('two dispatchers on one database', () => {
  let db: TestDatabase;
  const apps: NestFastifyApplication[] = [];
  const hook = new StandIn();
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-dispatch-replicas-'));

  const names = () => hook.received.flatMap((r) => (r.body.alerts as Array<{ labels: { alertname: string } }>) ?? []);
  const count = (alertname: string) => names().filter((a) => a.labels.alertname === alertname).length;
  const alert = (alertname: string, updatedAt: Date) => {
    const labels = { alertname, severity: 'P3' };
    return {
      fingerprint: alertFingerprint(labels),
      labels,
      annotations: {},
      startsAt: updatedAt,
      endsAt: new Date(updatedAt.getTime() + 3_600_000),
      generatorURL: '',
      updatedAt,
      source: 'api',
    };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    const base = await hook.start();
    hook.reply = () => ({ status: 200, body: '{}' });
    writeFileSync(
      path.join(dir, 'am.yml'),
      `route: { receiver: hook, group_by: [alertname], group_wait: 100ms, group_interval: 1s, repeat_interval: 1h }
receivers:
  - name: hook
    webhook_configs: [{ url: '${base}/hook' }]
`,
    );
    for (let i = 0; i < 2; i++) {
      const app = await createNotifierApp({
        config: testConfig(db.url, ns, { NOTIFIER_CONFIG: path.join(dir, 'am.yml'), NOTIFIER_ROLE: 'worker' }),
      });
      await app.init();
      apps.push(app);
    }
  }, 60_000);

  afterAll(async () => {
    for (const app of apps) await app.close().catch(() => undefined);
    await hook.stop();
    await db?.drop();
    const redis = new Redis(TEST_REDIS_URL);
    const keys = await redis.keys(`aw-test-${ns}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('one holds the lease and sends each group once, late commits included; the other takes over', async () => {
    const holding = apps.map((a) => a.get(DispatchLeaseRepository).holding);
    expect([...holding].sort()).toEqual([false, true]);
    const holder = holding.indexOf(true);
    const other = apps[1 - holder];
    // Written as an API process would, through the pool of the one that stays.
    const repo = other.get(AlertsRepository);

    const now = Date.now();
    await repo.upsert([alert('Newer', new Date(now))]);
    await eventually(() => (count('Newer') === 1 ? true : undefined), 10_000, 'Newer notified');
    // Stamped before the change already read, committed after it: an API process that was slower.
    await repo.upsert([alert('Older', new Date(now - 2_000))]);
    await eventually(() => (count('Older') === 1 ? true : undefined), 10_000, 'Older notified');

    // The holder goes away (its connection, and the lock with it); the other takes the lease.
    await apps[holder].close();
    await eventually(() => (other.get(DispatchLeaseRepository).holding ? true : undefined), 10_000, 'lease taken');
    await repo.upsert([alert('AfterTakeover', new Date())]);
    await eventually(() => (count('AfterTakeover') === 1 ? true : undefined), 10_000, 'AfterTakeover notified');
    // Give a resend the time to happen: nothing is sent twice.
    await new Promise((r) => setTimeout(r, 1_500));
    expect({ Newer: count('Newer'), Older: count('Older'), AfterTakeover: count('AfterTakeover') }).toEqual({
      Newer: 1,
      Older: 1,
      AfterTakeover: 1,
    });
  }, 60_000);
});
