import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import { ACCESS_SERVICE, issueRouteTokens, type AccessService } from '@arcwatch/access';
import { alertFingerprint } from '@arcwatch/contracts';
import { registeredRoutes } from '@arcwatch/runtime';
import {
  TEST_ADMIN_TOKEN,
  TEST_REDIS_URL,
  createTestDatabase,
  eventually,
  expectRouteAccess,
  injectSender,
  routeKeys,
  testNamespace,
  type RouteTable,
  type RouteTokens,
  type Send,
  type TestDatabase,
} from '@arcwatch/testing';
import { createNotifierApp } from './app';
import { DispatchService } from './dispatch/dispatch.service';
import { StandIn, testConfig } from './testing/notifier-test-kit';

const ACME = { alertname: 'TenantSlow', tenant: 'acme', severity: 'P2' };
const GLOBEX = { alertname: 'TenantSlow', tenant: 'globex', severity: 'P2' };
const FLEET = { alertname: 'NodeDown', node: 'gpu-node-1', severity: 'P1' };
const HOUR = 3_600_000;

function silence(tenant: string, comment: string) {
  return {
    matchers: [
      { name: 'tenant', value: tenant, isRegex: false, isEqual: true },
      // Another alert's name: these silences must not mute the alerts whose notifications are checked.
      { name: 'alertname', value: 'Maintenance', isRegex: false, isEqual: true },
    ],
    startsAt: new Date().toISOString(),
    endsAt: new Date(Date.now() + HOUR).toISOString(),
    createdBy: 'access-test',
    comment,
  };
}

describe('notifier: every route needs the right token and keeps a tenant to its own alerts and silences', () => {
  const hook = new StandIn();
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-notifier-access-'));
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let send: Send;
  let tokens: RouteTokens;
  let routes: RouteTable;
  const silences: Record<string, string> = {};

  beforeAll(async () => {
    db = await createTestDatabase();
    const base = await hook.start();
    writeFileSync(
      path.join(dir, 'am.yml'),
      `route:
  receiver: hook
  group_by: [alertname, tenant]
  group_wait: 50ms
  group_interval: 1h
  repeat_interval: 4h
receivers:
  - name: hook
    webhook_configs:
      - url: ${base}/hook
`,
    );
    app = await createNotifierApp({
      config: testConfig(db.url, ns, { NOTIFIER_CONFIG: path.join(dir, 'am.yml'), NOTIFIER_BODY_LIMIT_BYTES: '4096' }),
    });
    await app.init();
    const fastify = app.getHttpAdapter().getInstance();
    await fastify.ready();
    send = injectSender(fastify);
    tokens = await issueRouteTokens(app.get<AccessService>(ACCESS_SERVICE), 'globex', TEST_ADMIN_TOKEN);
    const endsAt = new Date(Date.now() + HOUR).toISOString();
    const posted = await send('POST', '/api/v2/alerts', tokens.admin, [
      { labels: ACME, endsAt },
      { labels: GLOBEX, endsAt },
      { labels: FLEET, endsAt },
    ]);
    expect(posted.status).toBe(200);
    for (const [name, tenant] of [
      ['acme', 'acme'],
      ['globex', 'globex'],
      ['del-acme', 'acme'],
      ['del-globex', 'globex'],
    ] as const) {
      const r = await send('POST', '/api/v2/silences', tokens.admin, silence(tenant, name));
      silences[name] = (r.body as { silenceID: string }).silenceID;
    }
    const groups = await eventually(async () => {
      const g = await app.get(DispatchService).groupsView();
      return g.length === 3 ? g : undefined;
    });
    const groupOf = (tenant: string) => groups.find((g) => g.labels.tenant === tenant)!.key;
    const fp = { acme: alertFingerprint(ACME), globex: alertFingerprint(GLOBEX) };

    /** Every route the notifier serves, the role it needs and how a tenant's token is kept to its tenant. */
    routes = {
      'GET /healthz': { role: 'public', tenant: 'none', url: '/healthz' },
      'GET /readyz': { role: 'public', tenant: 'none', url: '/readyz' },
      'GET /metrics': { role: 'viewer', tenant: 'none', url: '/metrics' },
      'POST /api/v2/alerts': { role: 'operator', tenant: 'unscoped', url: '/api/v2/alerts', payload: [] },
      'GET /api/v2/alerts': {
        role: 'viewer',
        tenant: 'query',
        url: '/api/v2/alerts',
        otherTenantUrl: '/api/v2/alerts?tenant=acme',
      },
      'GET /api/v2/alerts/groups': {
        role: 'viewer',
        tenant: 'query',
        url: '/api/v2/alerts/groups',
        otherTenantUrl: '/api/v2/alerts/groups?tenant=acme',
      },
      'GET /api/v2/silences': {
        role: 'viewer',
        tenant: 'query',
        url: '/api/v2/silences',
        otherTenantUrl: '/api/v2/silences?tenant=acme',
      },
      'POST /api/v2/silences': {
        role: 'operator',
        tenant: 'query',
        url: '/api/v2/silences',
        payload: silence('globex', 'route test'),
        otherTenantPayload: silence('acme', 'route test'),
      },
      'GET /api/v2/silence/:id': {
        role: 'viewer',
        tenant: 'record',
        url: `/api/v2/silence/${silences.globex}`,
        otherTenantUrl: `/api/v2/silence/${silences.acme}`,
      },
      'DELETE /api/v2/silence/:id': {
        role: 'operator',
        tenant: 'record',
        url: `/api/v2/silence/${silences['del-globex']}`,
        otherTenantUrl: `/api/v2/silence/${silences['del-acme']}`,
      },
      'GET /api/v2/status': { role: 'viewer', tenant: 'unscoped', url: '/api/v2/status' },
      'GET /api/v2/receivers': { role: 'viewer', tenant: 'unscoped', url: '/api/v2/receivers' },
      'POST /api/v1/alerts/:fingerprint/acknowledge': {
        role: 'operator',
        tenant: 'record',
        url: `/api/v1/alerts/${fp.globex}/acknowledge`,
        otherTenantUrl: `/api/v1/alerts/${fp.acme}/acknowledge`,
        payload: { by: 'sre' },
      },
      'POST /api/v1/groups/acknowledge': {
        role: 'operator',
        tenant: 'record',
        url: '/api/v1/groups/acknowledge',
        payload: { groupKey: groupOf('globex'), by: 'sre' },
        otherTenantPayload: { groupKey: groupOf('acme'), by: 'sre' },
      },
      'GET /api/v1/alerts/:fingerprint/escalation': {
        role: 'viewer',
        tenant: 'record',
        url: `/api/v1/alerts/${fp.globex}/escalation`,
        otherTenantUrl: `/api/v1/alerts/${fp.acme}/escalation`,
      },
      'GET /api/v1/alerts/:fingerprint/notifications': {
        role: 'viewer',
        tenant: 'record',
        url: `/api/v1/alerts/${fp.globex}/notifications`,
        otherTenantUrl: `/api/v1/alerts/${fp.acme}/notifications`,
      },
      'GET /api/v1/notifications': { role: 'viewer', tenant: 'filtered', url: '/api/v1/notifications' },
      'POST /api/v1/alertmanager-webhook': {
        role: 'operator',
        tenant: 'unscoped',
        url: '/api/v1/alertmanager-webhook',
        payload: { version: '4', alerts: [] },
      },
    };
    // The group notifications, so the notification log has an entry per tenant.
    await eventually(() => (hook.on('/hook').length >= 3 ? true : undefined), 15_000, 'group notifications');
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

  it('lists every route the app serves (a new route needs its entry here)', () => {
    expect(routeKeys(registeredRoutes(app))).toEqual(Object.keys(routes).sort());
  });

  it('answers every route as its role and tenant rule say', async () => {
    for (const key of Object.keys(routes).sort()) await expectRouteAccess(send, key, routes[key]!, tokens);
  });

  it("a scoped token lists its tenant's alerts, groups, silences and notifications only", async () => {
    type Alert = { labels: Record<string, string> };
    const tenantsOf = (alerts: Alert[]) => alerts.map((a) => a.labels.tenant ?? '-').sort();
    const all = (await send('GET', '/api/v2/alerts', tokens.viewer)).body as Alert[];
    expect(tenantsOf(all)).toEqual(['-', 'acme', 'globex']);
    const scoped = (await send('GET', '/api/v2/alerts', tokens.scoped.viewer)).body as Alert[];
    expect(tenantsOf(scoped)).toEqual(['globex']);
    const groups = (await send('GET', '/api/v2/alerts/groups', tokens.scoped.viewer)).body as Array<{
      alerts: Alert[];
    }>;
    expect(tenantsOf(groups.flatMap((g) => g.alerts))).toEqual(['globex']);

    type Sil = { comment: string; matchers: Array<{ name: string; value: string }> };
    const silenceTenants = (list: Sil[]) =>
      [...new Set(list.map((s) => s.matchers.find((m) => m.name === 'tenant')!.value))].sort();
    expect(silenceTenants((await send('GET', '/api/v2/silences', tokens.viewer)).body as Sil[])).toEqual([
      'acme',
      'globex',
    ]);
    expect(silenceTenants((await send('GET', '/api/v2/silences', tokens.scoped.viewer)).body as Sil[])).toEqual([
      'globex',
    ]);

    const fpTenant = new Map(all.map((a) => [(a as Alert & { fingerprint: string }).fingerprint, a.labels.tenant]));
    type Note = { fingerprints: string[] };
    const noteTenants = (notes: Note[]) =>
      [...new Set(notes.flatMap((n) => n.fingerprints.map((f) => fpTenant.get(f) ?? '-')))].sort();
    expect(noteTenants((await send('GET', '/api/v1/notifications', tokens.viewer)).body as Note[])).toEqual([
      '-',
      'acme',
      'globex',
    ]);
    expect(noteTenants((await send('GET', '/api/v1/notifications', tokens.scoped.viewer)).body as Note[])).toEqual([
      'globex',
    ]);
  });

  it('a scoped operator may silence its own tenant only, with an equality matcher', async () => {
    const regex = silence('globex', 'regex');
    regex.matchers[0] = { name: 'tenant', value: 'glob.*', isRegex: true, isEqual: true };
    const r = await send('POST', '/api/v2/silences', tokens.scoped.operator, regex);
    expect(r.status).toBe(403);
    expect((r.body as { message: string }).message).toContain('tenant="globex"');
    const own = await send('POST', '/api/v2/silences', tokens.scoped.operator, silence('globex', 'own'));
    expect(own.status).toBe(200);
  });

  it('refuses a body over the limit with 413 and the error body', async () => {
    const alerts = Array.from({ length: 100 }, (_, i) => ({ labels: { alertname: `Big${i}`, pad: 'x'.repeat(40) } }));
    const r = await send('POST', '/api/v2/alerts', tokens.admin, alerts);
    expect(r.status).toBe(413);
    expect(r.body).toEqual({
      code: 'PAYLOAD_TOO_LARGE',
      message: 'request body is larger than this service accepts (4096 bytes)',
    });
  });
});
