import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import {
  BUDGET_EXCEEDED_V1,
  budgetExceededId,
  budgetSubject,
  cloudEvent,
  type BudgetExceededV1,
} from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import {
  TEST_REDIS_URL,
  authHeaders,
  createTestDatabase,
  eventually,
  testNamespace,
  type TestDatabase,
} from '@arcwatch/testing';
import { createNotifierApp } from '../app';
import { StandIn, testConfig } from '../testing/notifier-test-kit';

/**
 * billing's budget.exceeded through JetStream into a BudgetExceeded alert that resolves by itself
 * when the budget's period is over (billing never says a spend went back under its limit).
 */
describe('BudgetExceeded: fires on billing’s event, resolves when the period rolls over', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  const hook = new StandIn();
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-budget-'));

  beforeAll(async () => {
    db = await createTestDatabase();
    const base = await hook.start();
    writeFileSync(
      path.join(dir, 'am.yml'),
      `route:\n  receiver: hook\n  group_by: [alertname, tenant]\n  group_wait: 50ms\n  group_interval: 300ms\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: ${base}/hook\n        send_resolved: true\n`,
    );
    app = await createNotifierApp({ config: testConfig(db.url, ns, { NOTIFIER_CONFIG: path.join(dir, 'am.yml') }) });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await hook.stop();
    await db?.drop();
    const redis = new Redis(TEST_REDIS_URL);
    const keys = await redis.keys(`aw-test-${ns}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('notifies firing, then resolved once the period has ended, and lists it no more', async () => {
    // A period that ends two seconds from now stands in for midnight.
    const now = Date.now();
    const exceeded: BudgetExceededV1 = {
      budgetId: 'acme-daily',
      tenant: 'acme',
      team: null,
      project: null,
      period: 'day',
      periodStart: new Date(now - 60_000).toISOString(),
      periodEnd: new Date(now + 2_000).toISOString(),
      unit: 'money',
      currency: 'USD',
      limit: '0.50',
      spent: '0.512345',
      exceededAt: new Date(now - 1_000).toISOString(),
    };
    await app.get(EventBus).publish(
      budgetSubject('exceeded', 'acme'),
      cloudEvent({
        type: BUDGET_EXCEEDED_V1,
        source: 'arcwatch/billing',
        id: budgetExceededId(exceeded.budgetId, exceeded.periodStart),
        data: exceeded,
      }),
    );
    const firing = await eventually(() => hook.on('/hook')[0], 15_000, 'firing notification');
    expect(firing.body).toMatchObject({
      status: 'firing',
      alerts: [{ labels: { alertname: 'BudgetExceeded', tenant: 'acme', budget: 'acme-daily' }, status: 'firing' }],
    });
    const listed = async () =>
      (
        await app.getHttpAdapter().getInstance().inject({
          method: 'GET',
          url: '/api/v2/alerts?filter=alertname%3D%22BudgetExceeded%22',
          headers: authHeaders(),
        })
      ).json() as Array<{ labels: Record<string, string> }>;
    expect((await listed()).map((a) => a.labels.budget)).toEqual(['acme-daily']);

    const resolved = await eventually(
      () => hook.on('/hook').find((r) => r.body.status === 'resolved'),
      15_000,
      'resolved notification',
    );
    const alerts = resolved.body.alerts as Array<{ status: string; endsAt: string }>;
    // Compared as instants: the webhook writes times as Alertmanager does (trailing zeros of the
    // fraction dropped), billing as toISOString.
    expect(alerts.map((a) => [a.status, Date.parse(a.endsAt)])).toEqual([['resolved', Date.parse(exceeded.periodEnd)]]);
    expect(resolved.at).toBeGreaterThanOrEqual(Date.parse(exceeded.periodEnd));
    expect(await listed()).toEqual([]);
  });
});
