import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'pg';
import { ACCESS_SERVICE, issueRouteTokens, type AccessService } from '@arcwatch/access';
import { EVENT_TYPES, SUBJECTS, cloudEvent, requestCompletedId, type RequestCompletedV1 } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { registeredRoutes } from '@arcwatch/runtime';
import {
  REPO_ROOT,
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
import { AllocationWorker } from './allocation/allocation.worker';
import { createBillingApp } from './app';
import { testConfig } from './testing/billing-test-kit';

const T0 = Date.parse('2026-01-05T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const SPAN = `from=${at(-60)}&to=${at(3600)}`;
const BODY_LIMIT = 32 * 1024;

function record(id: string, tenant: string, scheduled: number, end: number): RequestCompletedV1 {
  return {
    requestId: id,
    status: 'completed',
    startedAt: at(scheduled),
    endedAt: at(end),
    tenant,
    team: `${tenant}-team`,
    project: 'chat',
    apiKeyHash: null,
    model: 'llama-3.1-70b',
    modelVersion: 'v1',
    instance: 'vllm-h100-0',
    node: 'gpu-node-1',
    gpuUuids: [],
    promptTokens: 100,
    completionTokens: 50,
    cachedTokens: null,
    finishReason: 'stop',
    error: null,
    queueMs: null,
    prefillMs: null,
    ttftMs: null,
    tpotMs: null,
    e2eMs: null,
    missingPhases: [],
    timeline: [
      { kind: 'received', time: at(scheduled) },
      { kind: 'scheduled', time: at(scheduled) },
      { kind: 'completed', time: at(end) },
    ],
  };
}

// acme and globex share the instance in the first window; the last record moves the stream on.
const RECORDS = [record('a1', 'acme', 0, 30), record('g1', 'globex', 10, 40), record('a2', 'acme', 170, 185)];

const INVENTORY = `pools:
  - { name: h100, owner: platform, idle: separate }
instances:
  - instance: vllm-h100-0
    pool: h100
    placements:
      - from: "${at(0)}"
        node: gpu-node-1
        gpus: 8
        gpuModel: H100
        price: { provider: aws, region: us-east-1, pricingKind: on-demand }
`;

const INVOICE = 'BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,BilledCost,BillingCurrency\n';

/** Every route billing serves, the role it needs and how a tenant's token is kept to its tenant. */
const ROUTES: RouteTable = {
  'GET /healthz': { role: 'public', tenant: 'none', url: '/healthz' },
  'GET /readyz': { role: 'public', tenant: 'none', url: '/readyz' },
  'GET /metrics': { role: 'viewer', tenant: 'none', url: '/metrics' },
  'GET /api/v1/prices': { role: 'viewer', tenant: 'unscoped', url: '/api/v1/prices' },
  'PUT /api/v1/prices': {
    role: 'admin',
    tenant: 'unscoped',
    url: '/api/v1/prices',
    payload: 'not: [a catalog',
    headers: { 'content-type': 'text/yaml' },
  },
  'POST /api/v1/invoices': {
    role: 'admin',
    tenant: 'unscoped',
    url: '/api/v1/invoices',
    payload: INVOICE,
    headers: { 'content-type': 'text/csv' },
  },
  'GET /api/v1/invoices/:importId/rejects': {
    role: 'viewer',
    tenant: 'unscoped',
    url: '/api/v1/invoices/no-such-import/rejects',
  },
  'POST /api/v1/invoices/:importId/reconciliation': {
    role: 'admin',
    tenant: 'unscoped',
    url: '/api/v1/invoices/no-such-import/reconciliation',
  },
  'GET /api/v1/reports/cost': {
    role: 'viewer',
    tenant: 'query',
    url: `/api/v1/reports/cost?${SPAN}`,
    otherTenantUrl: `/api/v1/reports/cost?${SPAN}&tenant=acme`,
  },
  'GET /api/v1/reports/cost.csv': {
    role: 'viewer',
    tenant: 'query',
    url: `/api/v1/reports/cost.csv?${SPAN}`,
    otherTenantUrl: `/api/v1/reports/cost.csv?${SPAN}&tenant=acme`,
  },
  'GET /api/v1/reports/explain': {
    role: 'viewer',
    tenant: 'query',
    url: `/api/v1/reports/explain?${SPAN}`,
    otherTenantUrl: `/api/v1/reports/explain?${SPAN}&tenant=acme`,
  },
  'GET /api/v1/reports/token-cost': { role: 'viewer', tenant: 'unscoped', url: `/api/v1/reports/token-cost?${SPAN}` },
  'GET /api/v1/reports/idle': { role: 'viewer', tenant: 'unscoped', url: `/api/v1/reports/idle?${SPAN}` },
  'GET /api/v1/reports/chargeback.csv': {
    role: 'viewer',
    tenant: 'unscoped',
    url: `/api/v1/reports/chargeback.csv?${SPAN}`,
  },
  'GET /api/v1/reports/requests/:id': {
    role: 'viewer',
    tenant: 'record',
    url: '/api/v1/reports/requests/g1',
    otherTenantUrl: '/api/v1/reports/requests/a1',
  },
};

describe('billing: every route needs the right token and keeps a tenant to its own costs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-billing-access-'));
  const inventoryFile = path.join(dir, 'inventory.yaml');
  writeFileSync(inventoryFile, INVENTORY);
  let db: TestDatabase;
  let pool: Pool;
  let bus: EventBus;
  let app: NestFastifyApplication;
  let send: Send;
  let tokens: RouteTokens;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url });
    const ns = testNamespace();
    const config = testConfig(db.url, ns, {
      BILLING_INVENTORY_FILE: inventoryFile,
      BILLING_PRICES_FILE: path.join(REPO_ROOT, 'infra/billing/prices.yaml'),
      BILLING_LATENESS_SECONDS: '0',
      BILLING_BODY_LIMIT_BYTES: String(BODY_LIMIT),
    });
    app = await createBillingApp({ config, disableWorkerTimer: true, clock: new TestClock(T0 + 86_400_000) });
    await app.init();
    const fastify = app.getHttpAdapter().getInstance();
    await fastify.ready();
    send = injectSender(fastify);
    tokens = await issueRouteTokens(app.get<AccessService>(ACCESS_SERVICE), 'globex', TEST_ADMIN_TOKEN);
    bus = await EventBus.connect({ name: 'billing-access-test', namespace: ns });
    for (const r of RECORDS) {
      await bus.publish(
        SUBJECTS.requestCompleted(r.tenant),
        cloudEvent({
          type: EVENT_TYPES.requestCompleted,
          source: 'test',
          id: requestCompletedId(r.requestId),
          time: r.endedAt,
          data: r,
        }),
      );
    }
    await eventually(async () => {
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM billing.request_intervals');
      return rows[0].n === RECORDS.length ? true : undefined;
    });
    await app.get(AllocationWorker).runOnce();
  });

  afterAll(async () => {
    await app?.close();
    await bus?.drain();
    await pool?.end();
    await db?.drop();
  });

  it('lists every route the app serves (a new route needs its entry here)', () => {
    expect(routeKeys(registeredRoutes(app))).toEqual(Object.keys(ROUTES).sort());
  });

  it.each(Object.keys(ROUTES))('%s', async (key) => {
    await expectRouteAccess(send, key, ROUTES[key]!, tokens);
  });

  it("a scoped token's cost report holds its tenant only; an unscoped one holds both", async () => {
    type Report = { items: Array<{ tenant: string; amount: string }> };
    const tenants = (a: { body: unknown }) => (a.body as Report).items.map((i) => i.tenant).sort();
    const all = await send('GET', `/api/v1/reports/cost?${SPAN}&by=tenant`, tokens.viewer);
    expect(tenants(all)).toEqual(expect.arrayContaining(['acme', 'globex']));
    const scoped = await send('GET', `/api/v1/reports/cost?${SPAN}&by=tenant`, tokens.scoped.viewer);
    expect(scoped.status).toBe(200);
    expect(tenants(scoped)).toEqual(['globex']);
    const globexAll = (all.body as Report).items.find((i) => i.tenant === 'globex')!.amount;
    expect((scoped.body as Report).items[0]!.amount).toBe(globexAll);

    const csv = await send('GET', `/api/v1/reports/cost.csv?${SPAN}&by=tenant`, tokens.scoped.viewer);
    expect(String(csv.body)).toContain('globex');
    expect(String(csv.body)).not.toContain('acme');

    const explain = await send('GET', `/api/v1/reports/explain?${SPAN}`, tokens.scoped.viewer);
    expect(explain.body).toMatchObject({ tenant: 'globex' });
  });

  it("one request's cost names only its own tenant's neighbours to a scoped token", async () => {
    type Cost = { tenant: string; windows: Array<{ sharedWith: Array<{ tenant: string }> }> };
    const full = (await send('GET', '/api/v1/reports/requests/g1', tokens.viewer)).body as Cost;
    expect(full.tenant).toBe('globex');
    expect(full.windows.flatMap((w) => w.sharedWith.map((s) => s.tenant))).toContain('acme');
    const scoped = (await send('GET', '/api/v1/reports/requests/g1', tokens.scoped.viewer)).body as Cost;
    expect(scoped.tenant).toBe('globex');
    expect(scoped.windows.flatMap((w) => w.sharedWith.map((s) => s.tenant))).not.toContain('acme');
  });

  it('refuses a body over the limit with 413 and the error body', async () => {
    const r = await send('PUT', '/api/v1/prices', tokens.admin, `# ${'x'.repeat(BODY_LIMIT)}\n`, {
      'content-type': 'text/yaml',
    });
    expect(r.status).toBe(413);
    expect(r.body).toEqual({
      code: 'PAYLOAD_TOO_LARGE',
      message: `request body is larger than this service accepts (${BODY_LIMIT} bytes)`,
    });
  });
});
