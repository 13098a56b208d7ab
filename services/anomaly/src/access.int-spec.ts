import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ACCESS_SERVICE, issueRouteTokens, type AccessService } from '@arcwatch/access';
import { EVENT_TYPES, SUBJECTS, cloudEvent, type MetricsBatchV1 } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { registeredRoutes } from '@arcwatch/runtime';
import {
  TEST_ADMIN_TOKEN,
  TestClock,
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
import { createAnomalyApp } from './app';
import { tearDown, testConfig } from './testing/anomaly-test-kit';

const T0 = Date.parse('2026-06-01T12:00:00.000Z');
// One alert per tenant and one fleet-wide (no tenant label).
const RULES = `
groups:
  - name: serving
    interval: 10s
    rules:
      - alert: TenantErrors
        expr: tenant_errors > 1
        labels: { severity: P2 }
      - alert: NodeDown
        expr: node_up == 0
        labels: { severity: P1 }
`;

const ROUTES: RouteTable = {
  'GET /healthz': { role: 'public', tenant: 'none', url: '/healthz' },
  'GET /readyz': { role: 'public', tenant: 'none', url: '/readyz' },
  'GET /metrics': { role: 'viewer', tenant: 'none', url: '/metrics' },
  'GET /api/v1/alerts': {
    role: 'viewer',
    tenant: 'query',
    url: '/api/v1/alerts',
    otherTenantUrl: '/api/v1/alerts?tenant=acme',
  },
  'GET /api/v1/rules': { role: 'viewer', tenant: 'unscoped', url: '/api/v1/rules' },
};

type Alerts = { data: { alerts: Array<{ labels: Record<string, string> }> } };

describe('anomaly: every route needs the right token and keeps a tenant to its own alerts', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'anomaly-access-'));
  const ruleFile = path.join(dir, 'rules.yml');
  writeFileSync(ruleFile, RULES);
  let db: TestDatabase;
  let bus: EventBus;
  let app: NestFastifyApplication;
  let send: Send;
  let tokens: RouteTokens;
  const ns = testNamespace();

  beforeAll(async () => {
    db = await createTestDatabase();
    bus = await EventBus.connect({ name: 'anomaly-access-test', namespace: ns });
    app = await createAnomalyApp({
      config: testConfig(db.url, ns, { ANOMALY_RULE_FILES: ruleFile, ANOMALY_BODY_LIMIT_BYTES: '2048' }),
      clock: new TestClock(T0),
    });
    await app.init();
    const fastify = app.getHttpAdapter().getInstance();
    await fastify.ready();
    send = injectSender(fastify);
    tokens = await issueRouteTokens(app.get<AccessService>(ACCESS_SERVICE), 'globex', TEST_ADMIN_TOKEN);
    const data: MetricsBatchV1 = {
      batchId: 'b-1',
      source: 'scrape',
      cluster: 'c1',
      node: 'node-1',
      target: { job: 'gateway', instance: 'node-1:80' },
      scrapedAtMs: T0,
      series: [
        { labels: { __name__: 'tenant_errors', tenant: 'acme' }, samples: [[T0, 5]] },
        { labels: { __name__: 'tenant_errors', tenant: 'globex' }, samples: [[T0, 7]] },
        { labels: { __name__: 'node_up', node: 'node-1' }, samples: [[T0, 0]] },
      ],
    };
    await bus.publish(
      SUBJECTS.metricsSamples('c1', 'node-1'),
      cloudEvent({ id: 'b-1', source: 'test', type: EVENT_TYPES.metricsBatch, time: new Date(T0), data }),
    );
    await eventually(async () => {
      const a = await send('GET', '/api/v1/alerts', tokens.viewer);
      return (a.body as Alerts).data.alerts.length === 3 ? true : undefined;
    }, 10_000);
  });

  afterAll(async () => {
    await tearDown({ app, bus, db });
  });

  it('lists every route the app serves (a new route needs its entry here)', () => {
    expect(routeKeys(registeredRoutes(app))).toEqual(Object.keys(ROUTES).sort());
  });

  it.each(Object.keys(ROUTES))('%s', async (key) => {
    await expectRouteAccess(send, key, ROUTES[key]!, tokens);
  });

  it("a scoped token sees its tenant's alerts only, never fleet-wide ones", async () => {
    const names = (a: { body: unknown }) =>
      (a.body as Alerts).data.alerts.map((x) => `${x.labels.alertname}/${x.labels.tenant ?? '-'}`).sort();
    expect(names(await send('GET', '/api/v1/alerts', tokens.viewer))).toEqual([
      'NodeDown/-',
      'TenantErrors/acme',
      'TenantErrors/globex',
    ]);
    expect(names(await send('GET', '/api/v1/alerts?tenant=acme', tokens.viewer))).toEqual(['TenantErrors/acme']);
    expect(names(await send('GET', '/api/v1/alerts', tokens.scoped.viewer))).toEqual(['TenantErrors/globex']);
    expect(names(await send('GET', '/api/v1/alerts?tenant=globex', tokens.scoped.viewer))).toEqual([
      'TenantErrors/globex',
    ]);
  });

  it('runs Fastify with the configured body limit (no route of this service takes a body)', () => {
    // GET bodies are ignored and unknown routes answer 404 before reading one, so the limit
    // itself is what there is to check; the services with bodies prove the 413.
    expect(app.getHttpAdapter().getInstance().initialConfig.bodyLimit).toBe(2048);
  });
});
