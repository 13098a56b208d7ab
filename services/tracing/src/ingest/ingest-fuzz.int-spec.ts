import fc from 'fast-check';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  FUZZ_TIMEOUT_MS,
  authHeaders,
  bodyRoutes,
  createTestDatabase,
  testNamespace,
  type TestDatabase,
} from '@arcwatch/testing';
import { createTracingApp } from '../app';
import { testConfig } from '../testing/tracing-test-kit';

/**
 * Generated request bodies against every ingest and query route: each answer is a 2xx or a 4xx
 * with the error body, never a 5xx. `ARCWATCH_FUZZ_RUNS` raises the count (npm run fuzz).
 */
const RUNS = Number(process.env.ARCWATCH_FUZZ_RUNS ?? 300);

const jsonish = fc.oneof(
  fc.json(),
  fc.record({
    events: fc.array(
      fc.record(
        { requestId: fc.string(), kind: fc.string(), time: fc.oneof(fc.string(), fc.integer()) },
        { requiredKeys: [] },
      ),
      { maxLength: 5 },
    ),
  }),
  fc.record({ resourceSpans: fc.array(fc.anything(), { maxLength: 3 }) }),
);

describe('tracing HTTP under generated bodies', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createTracingApp({ config: testConfig(db.url, testNamespace()), disableWorkerTimer: true });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('fuzzes every route that takes a body (a new one needs its case below)', () => {
    expect(bodyRoutes(app)).toEqual(['POST /api/v1/requests/events', 'POST /v1/traces']);
  });

  it.each([
    ['/api/v1/requests/events', 'application/json'],
    ['/v1/traces', 'application/json'],
    ['/v1/traces', 'application/x-protobuf'],
  ])(
    'POST %s (%s) answers 2xx or 4xx, never 5xx',
    async (url, contentType) => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            jsonish.map((j) => JSON.stringify(j)),
            fc.string({ unit: 'binary' }),
            fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
          ),
          async (body) => {
            const res = await app
              .getHttpAdapter()
              .getInstance()
              .inject({
                method: 'POST',
                url,
                payload: body,
                headers: { 'content-type': contentType, ...authHeaders() },
              });
            if (res.statusCode >= 500)
              throw new Error(`${res.statusCode} ${res.body} for ${JSON.stringify(String(body)).slice(0, 300)}`);
            if (res.statusCode >= 400) expect(res.json()).toHaveProperty('code');
          },
        ),
        { numRuns: RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'GET query routes answer 2xx or 4xx for generated parameters',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('/api/v1/requests', '/api/v1/requests/exemplars', '/api/v1/requests/stats'),
          fc.dictionary(
            fc.constantFrom('from', 'to', 'limit', 'cursor', 'tenant', 'status', 'metric', 'step', 'minLatencyMs'),
            fc.string(),
          ),
          async (path, params) => {
            const res = await app
              .getHttpAdapter()
              .getInstance()
              .inject({ method: 'GET', url: `${path}?${new URLSearchParams(params)}`, headers: authHeaders() });
            if (res.statusCode >= 500)
              throw new Error(`${res.statusCode} ${res.body} for ${path} ${JSON.stringify(params)}`);
          },
        ),
        { numRuns: RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
