import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ACCESS_SERVICE, issueRouteTokens, type AccessService } from '@arcwatch/access';
import { registeredRoutes } from '@arcwatch/runtime';
import {
  TEST_ADMIN_TOKEN,
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
import { Pool } from 'pg';
import { createTracingApp } from './app';
import { AssemblyWorker } from './assembly/assembly.worker';
import { testConfig } from './testing/tracing-test-kit';

const T0 = Date.parse('2025-06-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const WINDOW = `from=${T0 - 60_000}&to=${T0 + 3_600_000}`;
const BODY_LIMIT = 64 * 1024;

function lifecycle(requestId: string, tenant: string): Array<Record<string, unknown>> {
  return [
    { requestId, kind: 'received', time: at(0), model: 'llama-3-8b', tenant },
    { requestId, kind: 'queued', time: at(5) },
    { requestId, kind: 'scheduled', time: at(100), instance: 'vllm-0', gpuUuids: ['GPU-1'] },
    { requestId, kind: 'first_token', time: at(300) },
    { requestId, kind: 'completed', time: at(1300), promptTokens: 10, completionTokens: 5, finishReason: 'stop' },
  ];
}

/** Every route tracing serves, the role it needs and how a tenant's token is kept to its tenant. */
const ROUTES: RouteTable = {
  'GET /healthz': { role: 'public', tenant: 'none', url: '/healthz' },
  'GET /readyz': { role: 'public', tenant: 'none', url: '/readyz' },
  'GET /metrics': { role: 'viewer', tenant: 'none', url: '/metrics' },
  'POST /api/v1/requests/events': {
    role: 'ingest',
    tenant: 'unscoped',
    url: '/api/v1/requests/events',
    payload: { events: lifecycle('pushed-1', 'acme') },
  },
  'POST /v1/traces': { role: 'ingest', tenant: 'unscoped', url: '/v1/traces', payload: { resourceSpans: [] } },
  'GET /api/v1/requests': {
    role: 'viewer',
    tenant: 'query',
    url: `/api/v1/requests?${WINDOW}`,
    otherTenantUrl: `/api/v1/requests?${WINDOW}&tenant=acme`,
  },
  'GET /api/v1/requests/exemplars': {
    role: 'viewer',
    tenant: 'query',
    url: `/api/v1/requests/exemplars?${WINDOW}`,
    otherTenantUrl: `/api/v1/requests/exemplars?${WINDOW}&tenant=acme`,
  },
  'GET /api/v1/requests/stats': {
    role: 'viewer',
    tenant: 'query',
    url: `/api/v1/requests/stats?${WINDOW}`,
    otherTenantUrl: `/api/v1/requests/stats?${WINDOW}&tenant=acme`,
  },
  'GET /api/v1/requests/:id': {
    role: 'viewer',
    tenant: 'record',
    url: '/api/v1/requests/globex-1',
    otherTenantUrl: '/api/v1/requests/acme-1',
  },
};

describe('tracing: every route needs the right token and keeps a tenant to its own data', () => {
  let db: TestDatabase;
  let pool: Pool;
  let app: NestFastifyApplication;
  let send: Send;
  let tokens: RouteTokens;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url });
    app = await createTracingApp({
      config: testConfig(db.url, testNamespace(), { TRACING_BODY_LIMIT_BYTES: String(BODY_LIMIT) }),
      disableWorkerTimer: true,
    });
    await app.init();
    const fastify = app.getHttpAdapter().getInstance();
    await fastify.ready();
    send = injectSender(fastify);
    tokens = await issueRouteTokens(app.get<AccessService>(ACCESS_SERVICE), 'globex', TEST_ADMIN_TOKEN);
    for (const [id, tenant] of [
      ['acme-1', 'acme'],
      ['globex-1', 'globex'],
    ] as const) {
      const r = await send('POST', '/api/v1/requests/events', tokens.ingest, { events: lifecycle(id, tenant) });
      expect(r.status).toBe(202);
    }
    await eventually(async () => {
      await app.get(AssemblyWorker).runOnce();
      const n = Number((await pool.query(`SELECT count(*) AS n FROM tracing.requests`)).rows[0].n);
      return n >= 2 ? true : undefined;
    });
    await app.get(AssemblyWorker).runOnce();
  });

  afterAll(async () => {
    await app?.close();
    await pool?.end();
    await db?.drop();
  });

  it('lists every route the app serves (a new route needs its entry here)', () => {
    expect(routeKeys(registeredRoutes(app))).toEqual(Object.keys(ROUTES).sort());
  });

  it.each(Object.keys(ROUTES))('%s', async (key) => {
    await expectRouteAccess(send, key, ROUTES[key]!, tokens);
  });

  it("a scoped token's lists hold its tenant's requests only", async () => {
    const ids = (a: { body: unknown }) =>
      (a.body as { requests: Array<{ requestId: string; tenant: string }> }).requests.map((r) => r.requestId).sort();
    const all = await send('GET', `/api/v1/requests?${WINDOW}`, tokens.viewer);
    expect(ids(all)).toEqual(expect.arrayContaining(['acme-1', 'globex-1']));
    const scoped = await send('GET', `/api/v1/requests?${WINDOW}`, tokens.scoped.viewer);
    expect(scoped.status).toBe(200);
    expect(ids(scoped)).toEqual(['globex-1']);
    const own = await send('GET', `/api/v1/requests?${WINDOW}&tenant=globex`, tokens.scoped.viewer);
    expect(ids(own)).toEqual(['globex-1']);

    const exemplarIds = (a: { body: unknown }) =>
      (a.body as { buckets: Array<{ exemplars: Array<{ requestId: string }> }> }).buckets
        .flatMap((b) => b.exemplars.map((e) => e.requestId))
        .sort();
    expect(exemplarIds(await send('GET', `/api/v1/requests/exemplars?${WINDOW}`, tokens.viewer))).toEqual(
      expect.arrayContaining(['acme-1', 'globex-1']),
    );
    expect(exemplarIds(await send('GET', `/api/v1/requests/exemplars?${WINDOW}`, tokens.scoped.viewer))).toEqual([
      'globex-1',
    ]);

    const one = await send('GET', '/api/v1/requests/globex-1', tokens.scoped.viewer);
    expect(one.body).toMatchObject({ requestId: 'globex-1', tenant: 'globex' });
  });

  it('refuses a body over the limit with 413 and the error body', async () => {
    const events = Array.from({ length: 2_000 }, (_, i) => ({ requestId: `big-${i}`, kind: 'queued', time: at(i) }));
    expect(JSON.stringify({ events }).length).toBeGreaterThan(BODY_LIMIT);
    const r = await send('POST', '/api/v1/requests/events', tokens.ingest, { events });
    expect(r.status).toBe(413);
    expect(r.body).toEqual({
      code: 'PAYLOAD_TOO_LARGE',
      message: `request body is larger than this service accepts (${BODY_LIMIT} bytes)`,
    });
  });
});
