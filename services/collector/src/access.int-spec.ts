import { ACCESS_SERVICE, issueRouteTokens, type AccessService } from '@arcwatch/access';
import { registeredRoutes } from '@arcwatch/runtime';
import {
  TEST_ADMIN_TOKEN,
  expectRouteAccess,
  injectSender,
  routeKeys,
  type RouteTable,
  type RouteTokens,
  type Send,
} from '@arcwatch/testing';
import { startCollector, type CollectorHarness } from './testing/harness';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const BODY_LIMIT = 4096;

/**
 * Every route the collector serves. The metrics API (query, catalog) needs a viewer token and an
 * unscoped one (series are not split by tenant, so a tenant's token is refused, not rewritten);
 * import and remote_write need an ingest token.
 */
const ROUTES: RouteTable = {
  'GET /healthz': { role: 'public', tenant: 'none', url: '/healthz' },
  'GET /readyz': { role: 'public', tenant: 'none', url: '/readyz' },
  'GET /metrics': { role: 'viewer', tenant: 'none', url: '/metrics' },
  'GET /api/v1/query': { role: 'viewer', tenant: 'unscoped', url: '/api/v1/query?query=up' },
  'POST /api/v1/query': {
    role: 'viewer',
    tenant: 'unscoped',
    url: '/api/v1/query',
    payload: 'query=up',
    headers: FORM,
  },
  'GET /api/v1/query_range': {
    role: 'viewer',
    tenant: 'unscoped',
    url: '/api/v1/query_range?query=up&start=0&end=60&step=15',
  },
  'POST /api/v1/query_range': {
    role: 'viewer',
    tenant: 'unscoped',
    url: '/api/v1/query_range',
    payload: 'query=up&start=0&end=60&step=15',
    headers: FORM,
  },
  'GET /api/v1/query_exemplars': {
    role: 'viewer',
    tenant: 'unscoped',
    url: '/api/v1/query_exemplars?query=up&start=0&end=60',
  },
  'POST /api/v1/query_exemplars': {
    role: 'viewer',
    tenant: 'unscoped',
    url: '/api/v1/query_exemplars',
    payload: 'query=up&start=0&end=60',
    headers: FORM,
  },
  'GET /api/v1/metadata': { role: 'viewer', tenant: 'unscoped', url: '/api/v1/metadata' },
  'GET /api/v1/status/buildinfo': { role: 'viewer', tenant: 'unscoped', url: '/api/v1/status/buildinfo' },
  'GET /api/v1/status/runtimeinfo': { role: 'viewer', tenant: 'unscoped', url: '/api/v1/status/runtimeinfo' },
  'GET /api/v1/series': { role: 'viewer', tenant: 'unscoped', url: '/api/v1/series?match[]=up' },
  'POST /api/v1/series': {
    role: 'viewer',
    tenant: 'unscoped',
    url: '/api/v1/series',
    payload: 'match[]=up',
    headers: FORM,
  },
  'GET /api/v1/labels': { role: 'viewer', tenant: 'unscoped', url: '/api/v1/labels' },
  'POST /api/v1/labels': { role: 'viewer', tenant: 'unscoped', url: '/api/v1/labels', payload: '', headers: FORM },
  'GET /api/v1/label/:name/values': { role: 'viewer', tenant: 'unscoped', url: '/api/v1/label/job/values' },
  'POST /api/v1/import/prometheus': {
    role: 'ingest',
    tenant: 'unscoped',
    url: '/api/v1/import/prometheus',
    payload: 'pushed_total{job="push"} 1\n',
    headers: { 'content-type': 'text/plain' },
  },
  'POST /api/v1/write': {
    role: 'ingest',
    tenant: 'unscoped',
    url: '/api/v1/write',
    payload: Buffer.from('not snappy'),
    headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
  },
};

describe('collector: every route needs the right token; a tenant-scoped token is refused on the metrics API', () => {
  let collector: CollectorHarness;
  let send: Send;
  let tokens: RouteTokens;

  beforeAll(async () => {
    collector = await startCollector('', { env: { COLLECTOR_BODY_LIMIT_BYTES: String(BODY_LIMIT) } });
    send = injectSender(collector.app.getHttpAdapter().getInstance());
    tokens = await issueRouteTokens(collector.app.get<AccessService>(ACCESS_SERVICE), 'globex', TEST_ADMIN_TOKEN);
  });

  afterAll(async () => {
    await collector?.stop();
  });

  it('lists every route the app serves (a new route needs its entry here)', () => {
    expect(routeKeys(registeredRoutes(collector.app))).toEqual(Object.keys(ROUTES).sort());
  });

  it.each(Object.keys(ROUTES))('%s', async (key) => {
    await expectRouteAccess(send, key, ROUTES[key]!, tokens);
  });

  it("answers a refusal in Prometheus's error body with ArcWatch's code and message beside it", async () => {
    const none = await send('GET', '/api/v1/query?query=up', undefined);
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ status: 'error', errorType: 'internal', code: 'UNAUTHENTICATED' });
    const scoped = await send('GET', '/api/v1/query?query=up', tokens.scoped.viewer);
    expect(scoped.status).toBe(403);
    expect(scoped.body).toMatchObject({
      status: 'error',
      code: 'FORBIDDEN',
      message: 'the metrics API spans every tenant; this token sees tenant globex only',
    });
    const ok = await send('GET', '/api/v1/query?query=vector(1)', tokens.viewer);
    expect(ok.body).toMatchObject({ status: 'success', data: { resultType: 'vector' } });
  });

  it('refuses a push over the body limit with 413', async () => {
    const body = Array.from({ length: 200 }, (_, i) => `big_push_total{n="${i}"} 1`).join('\n') + '\n';
    expect(body.length).toBeGreaterThan(BODY_LIMIT);
    const r = await send('POST', '/api/v1/import/prometheus', tokens.ingest, body, { 'content-type': 'text/plain' });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      message: `request body is larger than this service accepts (${BODY_LIMIT} bytes)`,
    });
  });
});
