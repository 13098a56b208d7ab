import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import { alertFingerprint } from '@arcwatch/contracts';
import {
  TEST_REDIS_URL,
  authHeaders,
  bodyRoutes,
  createTestDatabase,
  FUZZ_TIMEOUT_MS,
  fuzzRouteBodies,
  testNamespace,
  type BodySeed,
  type TestDatabase,
} from '@arcwatch/testing';
import { createNotifierApp } from './app';
import { StandIn, testConfig } from './testing/notifier-test-kit';

const HOUR = 3_600_000;
const LABELS = { alertname: 'GpuHot', node: 'gpu-node-1', gpu: '0', severity: 'P2' };
const json = (body: object): BodySeed[] => [{ contentType: 'application/json', body }];

describe('notifier HTTP under generated bodies (every route that takes one)', () => {
  const hook = new StandIn();
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-notifier-fuzz-'));
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let silenceId = '';
  let seeds: Record<string, BodySeed[]> = {};

  beforeAll(async () => {
    db = await createTestDatabase();
    const base = await hook.start();
    // A long group_wait: generated alerts are grouped but not sent during the run.
    writeFileSync(
      path.join(dir, 'am.yml'),
      `route:\n  receiver: hook\n  group_wait: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: ${base}/hook\n`,
    );
    app = await createNotifierApp({ config: testConfig(db.url, ns, { NOTIFIER_CONFIG: path.join(dir, 'am.yml') }) });
    await app.init();
    const fastify = app.getHttpAdapter().getInstance();
    await fastify.ready();
    const now = Date.now();
    const alert = {
      labels: LABELS,
      annotations: { summary: 'GPU 0 is hot' },
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + HOUR).toISOString(),
      generatorURL: 'http://anomaly/rules',
    };
    const posted = await fastify.inject({
      method: 'POST',
      url: '/api/v2/alerts',
      headers: authHeaders(),
      payload: [alert],
    });
    expect(posted.statusCode).toBe(200);
    const silence = {
      matchers: [{ name: 'alertname', value: 'Maintenance', isRegex: false, isEqual: true }],
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + HOUR).toISOString(),
      createdBy: 'fuzz',
      comment: 'generated bodies',
    };
    const s = await fastify.inject({
      method: 'POST',
      url: '/api/v2/silences',
      headers: authHeaders(),
      payload: silence,
    });
    silenceId = (s.json() as { silenceID: string }).silenceID;
    seeds = {
      'POST /api/v2/alerts': [
        ...json([alert, { ...alert, labels: { ...LABELS, gpu: '1' }, endsAt: undefined }]),
        // The same label set twice in one body (was a 500: one upsert cannot update a row twice).
        ...json([alert, { ...alert, annotations: { summary: 'still hot' } }]),
      ],
      'POST /api/v2/silences': [
        ...json({ ...silence, id: silenceId }),
        // A time that is no time (was a 500: an invalid Date reached the store).
        ...json({ ...silence, startsAt: '' }),
      ],
      'DELETE /api/v2/silence/:id': [{ contentType: 'application/json', body: {} }],
      'POST /api/v1/alerts/:fingerprint/acknowledge': json({ by: 'sre', comment: 'looking' }),
      'POST /api/v1/groups/acknowledge': json({ groupKey: '{}:{alertname="GpuHot"}', by: 'sre' }),
      'POST /api/v1/alertmanager-webhook': json({
        version: '4',
        groupKey: '{}:{alertname="GpuHot"}',
        status: 'firing',
        receiver: 'arcwatch',
        groupLabels: { alertname: 'GpuHot' },
        commonLabels: LABELS,
        commonAnnotations: {},
        externalURL: 'http://alertmanager:9093',
        truncatedAlerts: 0,
        alerts: [
          {
            status: 'firing',
            labels: LABELS,
            annotations: { summary: 'hot' },
            startsAt: new Date(now).toISOString(),
            endsAt: '0001-01-01T00:00:00Z',
            generatorURL: 'http://prometheus/graph',
            fingerprint: 'abc123',
          },
        ],
      }),
    };
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

  it('walks the routes Fastify registered and has a valid body for each', () => {
    const routes = bodyRoutes(app);
    expect(routes.length).toBeGreaterThan(0);
    for (const key of routes) expect(seeds).toHaveProperty([key]);
  });

  it.each([
    ['a silence whose start is no time', 'POST', '/api/v2/silences', 'startsAt'],
    ['the same label set twice in one body', 'POST', '/api/v2/alerts', 'labels'],
  ])('answers %s without a 5xx (each was a 500)', async (_what, method, url, field) => {
    const seed = seeds[`${method} ${url}`]?.[0]?.body as Record<string, unknown> | unknown[];
    const payload = Array.isArray(seed) ? [seed[0], seed[0]] : { ...seed, id: undefined, [field]: '' };
    const res = await app
      .getHttpAdapter()
      .getInstance()
      .inject({ method: method as 'POST', url, headers: authHeaders(), payload: payload as object });
    if (Array.isArray(seed)) expect(res.statusCode).toBe(200);
    else {
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'SILENCE_INVALID', message: expect.stringContaining(field) });
    }
  });

  const postSilence = async (changes: Record<string, unknown>) => {
    const silence = seeds['POST /api/v2/silences']?.[0]?.body as Record<string, unknown>;
    const res = await app
      .getHttpAdapter()
      .getInstance()
      .inject({ method: 'POST', url: '/api/v2/silences', headers: authHeaders(), payload: { ...silence, ...changes } });
    return { status: res.statusCode, body: res.json() as { code: string; message: string } };
  };

  // Text PostgreSQL cannot store is refused where JSON bodies are parsed, for every route of every
  // service (libs/runtime json-body.ts), with where it was; these were 500s before any check.
  it('refuses a silence whose author holds a NUL character with a 400 saying where (was a 500)', async () => {
    const res = await postSilence({ id: undefined, createdBy: 'a\u0000b' });
    expect([res.status, res.body.code]).toEqual([400, 'BAD_REQUEST']);
    expect(res.body.message).toMatch(/^request body holds a NUL character \(\\u0000\) at character \d+/);
  });

  it('refuses a silence update whose id holds a NUL character with a 400 (was a 500)', async () => {
    const res = await postSilence({ id: 'a\u0000b' });
    expect([res.status, res.body.code]).toEqual([400, 'BAD_REQUEST']);
  });

  it('refuses an alert whose annotation is not well-formed Unicode with a 400 (was a 500 from PostgreSQL)', async () => {
    const hook = seeds['POST /api/v1/alertmanager-webhook']?.[0]?.body as { alerts: Array<Record<string, unknown>> };
    const payload = { ...hook, alerts: [{ ...hook.alerts[0], annotations: { summary: 'hot \ud800' } }] };
    const res = await app
      .getHttpAdapter()
      .getInstance()
      .inject({ method: 'POST', url: '/api/v1/alertmanager-webhook', headers: authHeaders(), payload });
    expect([res.statusCode, res.json().code]).toEqual([400, 'BAD_REQUEST']);
    expect(res.json().message).toMatch(/a lone surrogate \(\\ud800\)/);
  });

  it(
    'answers every generated body with a 2xx or a 4xx carrying a code, never a 5xx, and stays healthy',
    async () => {
      const params = { id: [silenceId], fingerprint: [alertFingerprint(LABELS)] };
      for (const key of bodyRoutes(app)) await fuzzRouteBodies(app, key, { seeds, params });
    },
    FUZZ_TIMEOUT_MS,
  );
});
