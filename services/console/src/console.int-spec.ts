import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ACCESS_SERVICE, type AccessService } from '@arcwatch/access';
import { createLogger, registeredRoutes } from '@arcwatch/runtime';
import { createTestDatabase, freePort, routeKeys, type TestDatabase } from '@arcwatch/testing';
import { createConsoleApp } from './app';
import { loadConsoleConfig } from './config';
import { startStandIn, type StandIn } from './testing/stand-in-services';

const now = Math.floor(Date.now() / 1000);
const vec = (metric: Record<string, string>, v: number) => ({ metric, value: [now, String(v)] });
const request = (id: string, tenant: string, node: string) => ({
  requestId: id,
  tenant,
  team: 't',
  project: 'p',
  model: 'llama',
  status: 'completed',
  startedAt: '2026-12-03T10:00:00.000Z',
  endedAt: '2026-12-03T10:00:02.000Z',
  node,
  gpuUuids: [`GPU-${node}-0`],
});
const REQUESTS = [
  request('req-acme-1', 'acme', 'gpu-node-001'),
  request('req-globex-1', 'globex', 'gpu-node-001'),
  request('req-acme-2', 'acme', 'gpu-node-002'),
];
const ALERTS = [
  {
    fingerprint: 'fp-acme',
    labels: { alertname: 'HighLatency', tenant: 'acme' },
    startsAt: '2026-12-03T10:00:00Z',
    status: { state: 'active', silencedBy: [] },
  },
  {
    fingerprint: 'fp-globex',
    labels: { alertname: 'HighLatency', tenant: 'globex' },
    startsAt: '2026-12-03T10:00:00Z',
    status: { state: 'active', silencedBy: [] },
  },
  {
    fingerprint: 'fp-infra',
    labels: { alertname: 'GpuHot', node: 'gpu-node-001' },
    startsAt: '2026-12-03T10:00:00Z',
    status: { state: 'active', silencedBy: [] },
  },
];

/**
 * The console API against the real token store, with local stand-ins for the services it reads.
 * The stand-ins answer every tenant's data whatever they are asked, so what a scoped token gets
 * back shows the console's own scoping, and what they received shows the scope it forwarded.
 */
describe('console API: tenant scope on every route, services away, first admin', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let access: AccessService;
  const printed: string[] = [];
  const standIns: Record<string, StandIn> = {};
  const tokens: Record<'admin' | 'acmeOperator' | 'acmeViewer' | 'globalViewer', string> = {
    admin: '',
    acmeOperator: '',
    acmeViewer: '',
    globalViewer: '',
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    standIns.collector = await startStandIn((r) => {
      if (r.path === '/api/v1/series')
        return {
          body: {
            status: 'success',
            data: [{ __name__: 'DCGM_FI_DEV_GPU_UTIL', node: 'gpu-node-001', gpu: '0', UUID: 'GPU-gpu-node-001-0' }],
          },
        };
      if (r.path === '/api/v1/query') {
        const q = r.query.query;
        if (q.includes('DCGM_FI_DEV_GPU_UTIL'))
          return {
            body: {
              status: 'success',
              data: {
                resultType: 'vector',
                result: [
                  vec(
                    { __name__: 'DCGM_FI_DEV_GPU_UTIL', node: 'gpu-node-001', gpu: '0', UUID: 'GPU-gpu-node-001-0' },
                    97,
                  ),
                ],
              },
            },
          };
        if (q.startsWith('up'))
          return {
            body: {
              status: 'success',
              data: { resultType: 'vector', result: [vec({ node: 'gpu-node-001', job: 'dcgm-exporter' }, 1)] },
            },
          };
        return { body: { status: 'success', data: { resultType: 'vector', result: [] } } };
      }
      if (r.path === '/api/v1/query_range')
        return {
          body: {
            status: 'success',
            data: {
              resultType: 'matrix',
              result: [
                {
                  metric: { node: 'gpu-node-001', gpu: '0' },
                  values: [
                    [now - 60, '90'],
                    [now, '97'],
                  ],
                },
              ],
            },
          },
        };
      if (r.path === '/readyz') return { body: { status: 'ok' } };
      return undefined;
    });
    standIns.tracing = await startStandIn((r) => {
      if (r.path === '/api/v1/requests') return { body: { requests: REQUESTS, nextCursor: null } };
      if (r.path === '/api/v1/requests/stats') {
        return {
          body: ['acme', 'globex'].map((tenant) => ({
            start: '2026-12-03T10:00:00.000Z',
            stepSeconds: 60,
            model: 'llama',
            modelVersion: 'v1',
            tenant,
            requests: { completed: 5 },
            errorsByReason: {},
            tokens: { prompt: 1, completion: 1, cached: 0 },
            latencySeconds: { e2e: { p50: 1, p90: 2, p99: 3 } },
          })),
        };
      }
      const m = /^\/api\/v1\/requests\/(.+)$/.exec(r.path);
      const hit = m ? REQUESTS.find((x) => x.requestId === decodeURIComponent(m[1])) : undefined;
      if (hit) return { body: { ...hit, state: 'assembled' } };
      return m ? { status: 404, body: { code: 'REQUEST_NOT_FOUND', message: 'no such request' } } : undefined;
    });
    standIns.billing = await startStandIn((r) => {
      if (r.path === '/api/v1/reports/cost')
        return {
          body: {
            by: ['tenant'],
            items: [
              { tenant: 'acme', amount: '1.500000' },
              { tenant: 'globex', amount: '9.000000' },
            ],
          },
        };
      if (r.path === '/api/v1/reports/explain')
        return { body: { tenant: r.query.tenant, amount: '1.500000', instances: [] } };
      if (r.path.startsWith('/api/v1/reports/requests/')) {
        const sharedWith = [
          { requestId: 'req-globex-1', tenant: 'globex' },
          { requestId: 'req-acme-2', tenant: 'acme' },
        ];
        return {
          body: {
            requestId: r.path.split('/').pop(),
            amount: '0.000420',
            currency: 'USD',
            method: 'time-share',
            windows: [{ window: '2026-12-03T10:00:00.000Z', amount: '0.000420', sharedWith }],
          },
        };
      }
      if (r.path === '/api/v1/reports/idle' || r.path === '/api/v1/reports/token-cost') return { body: { items: [] } };
      if (r.path === '/api/v1/prices') return { body: { items: [] } };
      return undefined;
    });
    standIns.notifier = await startStandIn((r) => {
      if (r.path === '/api/v2/alerts') return { body: ALERTS };
      if (r.path === '/api/v2/silences' && r.method === 'GET') {
        return {
          body: [
            {
              id: 's-acme',
              matchers: [{ name: 'tenant', value: 'acme', isRegex: false, isEqual: true }],
              status: { state: 'active' },
            },
            {
              id: 's-globex',
              matchers: [{ name: 'tenant', value: 'globex', isRegex: false, isEqual: true }],
              status: { state: 'active' },
            },
          ],
        };
      }
      if (r.path === '/api/v2/silences' && r.method === 'POST') return { body: { silenceID: 'new-silence' } };
      if (/\/escalation$/.test(r.path))
        return {
          body: {
            acknowledgedAt: r.path.includes('fp-acme') ? '2026-12-03T10:05:00Z' : null,
            acknowledgedBy: 'oncall',
            escalation: null,
          },
        };
      if (/\/acknowledge$/.test(r.path))
        return { body: { acknowledged: true, escalation: r.path.includes('fp-acme') ? { level: 1 } : null } };
      if (r.path === '/api/v2/status') return { body: { config: { original: 'route: {}' } } };
      if (r.path === '/api/v1/notifications')
        return {
          body: [
            {
              id: 7,
              groupKey: '{}:{alertname="HighLatency"}',
              receiver: 'team',
              integration: 'webhook/0',
              channel: 'webhook',
              sequence: 1,
              status: 'delivered',
              alertStatus: 'firing',
              fingerprints: ['fp-acme', 'fp-globex'],
              attempts: 1,
              lastError: null,
              escalation: null,
              createdAt: '2026-12-03T10:00:01.000Z',
              finishedAt: '2026-12-03T10:00:01.200Z',
            },
          ],
        };
      return undefined;
    });
    // anomaly is away: a closed port.
    const anomalyPort = await freePort();
    const config = loadConsoleConfig({
      DATABASE_URL: db.url,
      LOG_LEVEL: 'silent',
      CONSOLE_COLLECTOR_URL: standIns.collector.url,
      CONSOLE_TRACING_URL: standIns.tracing.url,
      CONSOLE_BILLING_URL: standIns.billing.url,
      CONSOLE_NOTIFIER_URL: standIns.notifier.url,
      CONSOLE_ANOMALY_URL: `http://127.0.0.1:${anomalyPort}`,
      CONSOLE_UPSTREAM_TIMEOUT_MS: '1000',
      CONSOLE_WEB_DIR: '/nonexistent-console-web',
    });
    app = await createConsoleApp({
      config,
      logger: createLogger('console', 'silent'),
      printAdminToken: (line) => printed.push(line),
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    access = app.get<AccessService>(ACCESS_SERVICE);
    tokens.admin = /token \(shown once, keep it\): (\S+)/.exec(printed.join(''))?.[1] ?? '';
    tokens.acmeOperator = (await access.issue({ name: 'acme-oncall', role: 'operator', tenant: 'acme' })).token;
    tokens.acmeViewer = (await access.issue({ name: 'acme-viewer', role: 'viewer', tenant: 'acme' })).token;
    tokens.globalViewer = (await access.issue({ name: 'sre', role: 'viewer' })).token;
  });

  afterAll(async () => {
    await app?.close();
    for (const s of Object.values(standIns)) await s.close();
    await db?.drop();
  });

  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const get = (url: string, token?: string) => app.inject({ method: 'GET', url, headers: token ? as(token) : {} });
  const post = (url: string, token: string, payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url, headers: as(token), payload });
  const lastQuery = (s: StandIn, path: string) => [...s.received].reverse().find((r) => r.path === path)?.query;

  it('prints a first admin token once; it works as an unscoped admin', async () => {
    expect(printed).toHaveLength(1);
    expect(tokens.admin).toMatch(/^aw_/);
    expect((await get('/api/console/session', tokens.admin)).json()).toEqual({
      principal: { name: 'bootstrap admin', role: 'admin', tenant: null, via: 'bearer' },
    });
  });

  // Every console route: [method, url]. Each must refuse a caller without a token.
  const ROUTES: Array<[string, string]> = [
    ['GET', '/api/console/session'],
    ['GET', '/api/console/fleet'],
    ['GET', '/api/console/nodes/gpu-node-001'],
    ['GET', '/api/console/instances'],
    ['GET', '/api/console/requests'],
    ['GET', '/api/console/requests/req-acme-1'],
    ['GET', '/api/console/costs'],
    ['GET', '/api/console/costs/explain?tenant=acme'],
    ['GET', '/api/console/costs/fleet'],
    ['GET', '/api/console/alerts'],
    ['GET', '/api/console/alerts/history'],
    ['POST', '/api/console/alerts/fp-acme/acknowledge'],
    ['POST', '/api/console/silences'],
    ['GET', '/api/console/configuration'],
    ['GET', '/api/console/configuration/files'],
    ['PUT', '/api/console/configuration/files'],
    ['GET', '/api/console/services'],
    ['GET', '/api/console/events'],
    ['GET', '/api/console/tokens'],
    ['POST', '/api/console/tokens'],
    ['DELETE', '/api/console/tokens/x'],
    ['DELETE', '/api/console/session'],
    ['GET', '/metrics'],
  ];
  it('the route table above lists every route the console serves', () => {
    const served = routeKeys(registeredRoutes(app));
    const pattern = (route: string) => new RegExp(`^${route.replace(/:[a-zA-Z]+/g, '[^/?]+')}(\\?.*)?$`);
    const uncovered = served.filter((d) => !ROUTES.some(([m, url]) => pattern(d).test(`${m} ${url}`)));
    expect(uncovered).toEqual(PUBLIC_ROUTES.map(([m, url]) => `${m} ${url}`));
    expect(served).toHaveLength(ROUTES.length + PUBLIC_ROUTES.length);
  });

  // Login, the probes and the page shell answer without a token.
  const PUBLIC_ROUTES: Array<[string, string]> = [
    ['GET', '/'],
    ['GET', '/*'],
    ['GET', '/healthz'],
    ['GET', '/readyz'],
    ['POST', '/api/console/session'],
  ];
  it.each(PUBLIC_ROUTES)('answers %s %s without a token', async (method, url) => {
    const r = await app.inject({
      method: method as 'GET',
      url: url.replace('*', 'fleet'),
      payload: method === 'GET' ? undefined : {},
    });
    expect(r.statusCode).not.toBe(401);
  });

  it.each(ROUTES)('refuses %s %s without a token', async (method, url) => {
    const r = await app.inject({ method: method as 'GET', url, payload: method === 'GET' ? undefined : {} });
    expect(r.statusCode).toBe(401);
  });

  it('requests: a scoped token lists only its tenant, forwards the scope, and cannot ask for another', async () => {
    const r = await get('/api/console/requests', tokens.acmeViewer);
    expect(r.statusCode).toBe(200);
    expect(r.json().items.map((x: { requestId: string }) => x.requestId)).toEqual(['req-acme-1', 'req-acme-2']);
    expect(lastQuery(standIns.tracing, '/api/v1/requests')?.tenant).toBe('acme');
    expect((await get('/api/console/requests?tenant=globex', tokens.acmeViewer)).statusCode).toBe(403);
    const all = await get('/api/console/requests?node=gpu-node-001', tokens.globalViewer);
    expect(all.json().items.map((x: { requestId: string }) => x.requestId)).toEqual(['req-acme-1', 'req-globex-1']);
  });

  it("request page: another tenant's request is not found; its own comes with its cost and GPUs", async () => {
    const other = await get('/api/console/requests/req-globex-1', tokens.acmeViewer);
    expect(other.statusCode).toBe(404);
    expect(standIns.billing.received.some((r) => r.path.endsWith('/req-globex-1'))).toBe(false);
    const own = await get('/api/console/requests/req-acme-1', tokens.acmeViewer);
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({
      request: { requestId: 'req-acme-1', tenant: 'acme' },
      cost: { allocation: { amount: '0.000420' } },
      gpus: { series: [{ field: 'utilization' }, { field: 'power' }] },
    });
    // The GPU windows it shared: the other tenant's request is neither named nor attributed.
    expect(own.json().cost.allocation.windows).toEqual([
      {
        window: '2026-12-03T10:00:00.000Z',
        amount: '0.000420',
        sharedWith: [{ requestId: 'req-acme-2', tenant: 'acme' }],
        sharedWithOtherTenants: 1,
      },
    ]);
    expect(JSON.stringify(own.json())).not.toContain('globex');
    expect(
      (await get('/api/console/requests/req-acme-1', tokens.admin)).json().cost.allocation.windows[0].sharedWith,
    ).toHaveLength(2);
    expect((await get('/api/console/requests/no-such', tokens.admin)).statusCode).toBe(404);
  });

  it('instances: per-tenant statistics are scoped; engines (shared) are shown', async () => {
    const r = await get('/api/console/instances', tokens.acmeViewer);
    expect(r.statusCode).toBe(200);
    expect(r.json().models.items.map((m: { tenant: string }) => m.tenant)).toEqual(['acme']);
    expect(lastQuery(standIns.tracing, '/api/v1/requests/stats')?.tenant).toBe('acme');
    expect((await get('/api/console/instances?tenant=globex', tokens.acmeViewer)).statusCode).toBe(403);
    expect((await get('/api/console/instances', tokens.globalViewer)).json().models.items).toHaveLength(2);
  });

  it('costs: scoped reports and explanations; fleet-wide views refused', async () => {
    const r = await get('/api/console/costs?by=tenant', tokens.acmeViewer);
    expect(r.json().items).toEqual([{ tenant: 'acme', amount: '1.500000' }]);
    expect(lastQuery(standIns.billing, '/api/v1/reports/cost')?.tenant).toBe('acme');
    expect((await get('/api/console/costs?tenant=globex', tokens.acmeViewer)).statusCode).toBe(403);
    expect((await get('/api/console/costs/explain', tokens.acmeViewer)).json()).toMatchObject({ tenant: 'acme' });
    expect((await get('/api/console/costs/explain?tenant=globex', tokens.acmeViewer)).statusCode).toBe(403);
    expect((await get('/api/console/costs/fleet', tokens.acmeViewer)).statusCode).toBe(403);
    expect((await get('/api/console/costs/fleet', tokens.globalViewer)).statusCode).toBe(200);
    expect((await get('/api/console/costs?by=colour', tokens.globalViewer)).statusCode).toBe(400);
  });

  it("alerts: a scoped token sees only its tenant's alerts and silences, with acknowledgement; anomaly away shows as such", async () => {
    const r = await get('/api/console/alerts', tokens.acmeViewer);
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.alerts.items.map((a: { fingerprint: string; state: string }) => [a.fingerprint, a.state])).toEqual([
      ['fp-acme', 'acknowledged'],
    ]);
    expect(body.silences.items.map((s: { id: string }) => s.id)).toEqual(['s-acme']);
    expect(body.rules).toEqual({ unavailable: { service: 'anomaly', message: 'anomaly is not reachable' } });
    const everyone = (await get('/api/console/alerts', tokens.globalViewer)).json();
    expect(everyone.alerts.items.map((a: { fingerprint: string }) => a.fingerprint)).toEqual([
      'fp-acme',
      'fp-globex',
      'fp-infra',
    ]);
  });

  it("actions: operators only; a scoped operator cannot acknowledge or silence another tenant's alerts", async () => {
    expect((await post('/api/console/alerts/fp-acme/acknowledge', tokens.acmeViewer, {})).statusCode).toBe(403);
    expect((await post('/api/console/alerts/fp-globex/acknowledge', tokens.acmeOperator, {})).statusCode).toBe(404);
    expect((await post('/api/console/alerts/fp-infra/acknowledge', tokens.acmeOperator, {})).statusCode).toBe(404);
    const ack = await post('/api/console/alerts/fp-acme/acknowledge', tokens.acmeOperator, { comment: 'looking' });
    expect(ack.statusCode).toBe(200);
    const forwarded = [...standIns.notifier.received].reverse().find((x) => x.path.endsWith('/acknowledge'));
    expect(forwarded).toMatchObject({
      path: '/api/v1/alerts/fp-acme/acknowledge',
      body: { by: 'acme-oncall', comment: 'looking' },
    });

    // Nothing escalates the infra alert: acknowledging it is a conflict, not a silent no-op.
    expect((await post('/api/console/alerts/fp-infra/acknowledge', tokens.admin, {})).statusCode).toBe(409);
    const other = await post('/api/console/silences', tokens.acmeOperator, {
      matchers: [{ name: 'tenant', value: 'globex' }],
      comment: 'x',
    });
    expect(other.statusCode).toBe(403);
    const own = await post('/api/console/silences', tokens.acmeOperator, {
      matchers: [{ name: 'alertname', value: 'HighLatency' }],
      durationMinutes: 30,
      comment: 'deploy',
    });
    expect(own.json()).toEqual({ silenceID: 'new-silence' });
    const sent = [...standIns.notifier.received]
      .reverse()
      .find((x) => x.path === '/api/v2/silences' && x.method === 'POST');
    expect(sent?.body).toMatchObject({
      createdBy: 'acme-oncall',
      comment: 'deploy',
      matchers: [
        { name: 'alertname', value: 'HighLatency' },
        { name: 'tenant', value: 'acme', isRegex: false, isEqual: true },
      ],
    });
  });

  it('alert history (notification log): unscoped tokens only, one row per notification', async () => {
    expect((await get('/api/console/alerts/history', tokens.acmeViewer)).statusCode).toBe(403);
    const r = await get('/api/console/alerts/history', tokens.globalViewer);
    expect(r.statusCode).toBe(200);
    expect(r.json().items).toEqual([
      expect.objectContaining({ id: 7, receiver: 'team', status: 'delivered', alertStatus: 'firing', alerts: 2 }),
    ]);
    expect(lastQuery(standIns.notifier, '/api/v1/notifications')?.limit).toBe('1000');
  });

  it('configuration and tokens: refused to scoped tokens; tokens for admins only', async () => {
    expect((await get('/api/console/configuration', tokens.acmeOperator)).statusCode).toBe(403);
    expect((await get('/api/console/tokens', tokens.acmeOperator)).statusCode).toBe(403);
    const cfg = (await get('/api/console/configuration', tokens.globalViewer)).json();
    expect(cfg).toMatchObject({ prices: { items: [] }, rules: { unavailable: { service: 'anomaly' } }, tokens: null });
    expect((await get('/api/console/configuration', tokens.admin)).json().tokens.length).toBeGreaterThanOrEqual(4);
    expect((await get('/api/console/tokens', tokens.globalViewer)).statusCode).toBe(403);
    const issued = await post('/api/console/tokens', tokens.admin, {
      name: 'globex-ro',
      role: 'viewer',
      tenant: 'globex',
    });
    expect(issued.statusCode).toBe(201);
    const globex = issued.json().token as string;
    expect((await get('/api/console/requests', globex)).json().items.map((x: { tenant: string }) => x.tenant)).toEqual([
      'globex',
    ]);
    expect((await post('/api/console/tokens', tokens.admin, { name: 'bad', role: 'root' })).statusCode).toBe(400);
  });

  it('fleet and nodes (no tenant data) answer every token; services lists who is away', async () => {
    const fleet = await get('/api/console/fleet', tokens.acmeViewer);
    expect(fleet.statusCode).toBe(200);
    expect(fleet.json().totals).toMatchObject({ gpus: 1, busy: 1, down: 0 });
    const node = (await get('/api/console/nodes/gpu-node-001', tokens.acmeViewer)).json();
    expect(node.series.utilization[0].points).toEqual([
      [now - 60, 90],
      [now, 97],
    ]);
    const services = (await get('/api/console/services', tokens.acmeViewer)).json().services as Array<{
      service: string;
      up: boolean;
    }>;
    expect(Object.fromEntries(services.map((s) => [s.service, s.up]))).toMatchObject({
      collector: true,
      anomaly: false,
    });
  });

  it('a service that is away is a 503 naming it on its own page', async () => {
    await standIns.billing.close();
    const r = await get('/api/console/costs', tokens.globalViewer);
    expect(r.statusCode).toBe(503);
    expect(r.json()).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', details: { service: 'billing' } });
    // The request page still answers, with its cost marked unavailable.
    const page = await get('/api/console/requests/req-acme-1', tokens.globalViewer);
    expect(page.json().cost).toEqual({ unavailable: { service: 'billing', message: 'billing is not reachable' } });
  });

  it('browser sessions: login by token sets HTTP-only cookies; state changes need the CSRF header', async () => {
    const login = await app.inject({
      method: 'POST',
      url: '/api/console/session',
      payload: { token: tokens.acmeOperator },
    });
    expect(login.statusCode).toBe(200);
    const cookie = ([login.headers['set-cookie']].flat() as string[]).map((c) => c.split(';')[0]).join('; ');
    const csrf = login.json().csrf as string;
    expect(
      (await app.inject({ method: 'GET', url: '/api/console/requests', headers: { cookie } })).json().items,
    ).toHaveLength(2);
    const noCsrf = await app.inject({
      method: 'POST',
      url: '/api/console/alerts/fp-acme/acknowledge',
      headers: { cookie },
      payload: {},
    });
    expect(noCsrf.statusCode).toBe(403);
    const withCsrf = await app.inject({
      method: 'POST',
      url: '/api/console/alerts/fp-acme/acknowledge',
      headers: { cookie, 'x-csrf-token': csrf },
      payload: {},
    });
    expect(withCsrf.statusCode).toBe(200);
    expect(
      (await app.inject({ method: 'POST', url: '/api/console/session', payload: { token: 'aw_wrong' } })).statusCode,
    ).toBe(401);
  });

  it('serves the app shell outside /api and keeps the API 404 body inside it', async () => {
    const shell = await get('/fleet');
    expect(shell.statusCode).toBe(503);
    expect(shell.body).toContain('vite build');
    const missing = await get('/api/console/nope', tokens.admin);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'NOT_FOUND' });
    expect((await get('/healthz')).statusCode).toBe(200);
  });
});
