import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  REPO_ROOT,
  TestClock,
  authHeaders,
  bodyRoutes,
  createTestDatabase,
  FUZZ_TIMEOUT_MS,
  fuzzRouteBodies,
  testNamespace,
  type BodySeed,
  type TestDatabase,
} from '@arcwatch/testing';
import { createBillingApp } from './app';
import { testConfig } from './testing/billing-test-kit';

const T0 = Date.UTC(2026, 11, 3, 10);
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
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
const PRICES = `prices:
  - { gpuModel: H100, instanceType: p5.48xlarge, provider: aws, region: us-east-1, pricingKind: on-demand,
      effectiveFrom: "2025-01-01T00:00:00Z", currency: USD, perInstanceHour: "98.32", gpusPerInstance: 8 }
  - { gpuModel: H100, provider: onprem, region: dc1, pricingKind: on-prem, effectiveFrom: "2025-01-01T00:00:00Z",
      currency: USD, perGpuHour: "2.10" }
`;
const INVOICE = [
  'BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,BilledCost,BillingCurrency,ChargeCategory,ResourceId',
  `${at(0)},${at(3600)},${at(0)},${at(180)},2.000,USD,Usage,i-vllm-h100-0`,
  `${at(0)},${at(3600)},${at(0)},${at(180)},0.458,USD,Usage,i-vllm-h100-0`,
  '',
].join('\n');

describe('billing HTTP under generated bodies (every route that takes one)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-billing-fuzz-'));
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let importId = '';
  const seeds: Record<string, BodySeed[]> = {
    'PUT /api/v1/prices': [{ contentType: 'application/yaml', body: PRICES }],
    'POST /api/v1/invoices': [{ contentType: 'text/csv', body: INVOICE }],
    'POST /api/v1/invoices/:importId/reconciliation': [{ contentType: 'application/json', body: {} }],
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    writeFileSync(path.join(dir, 'inventory.yaml'), INVENTORY);
    app = await createBillingApp({
      config: testConfig(db.url, testNamespace(), {
        BILLING_INVENTORY_FILE: path.join(dir, 'inventory.yaml'),
        BILLING_PRICES_FILE: path.join(REPO_ROOT, 'infra/billing/prices.yaml'),
        BILLING_LATENESS_SECONDS: '0',
        BILLING_BODY_LIMIT_BYTES: String(512 * 1024),
      }),
      disableWorkerTimer: true,
      clock: new TestClock(T0 + 86_400_000),
    });
    await app.init();
    const fastify = app.getHttpAdapter().getInstance();
    await fastify.ready();
    const res = await fastify.inject({
      method: 'POST',
      url: '/api/v1/invoices',
      headers: { ...authHeaders(), 'content-type': 'text/csv' },
      payload: INVOICE,
    });
    expect(res.statusCode).toBe(201);
    importId = (res.json() as { importId: string }).importId;
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('walks the routes Fastify registered and has a valid body for each', () => {
    const routes = bodyRoutes(app);
    expect(routes.length).toBeGreaterThan(0);
    for (const key of routes) expect(seeds).toHaveProperty([key]);
  });

  it.each([
    [
      'a price file holding a NUL character',
      'PUT',
      '/api/v1/prices',
      'application/yaml',
      PRICES.replace('H100', 'H1\u000000'),
      /NUL/,
    ],
    [
      'an invoice whose header holds a NUL character',
      'POST',
      '/api/v1/invoices',
      'text/csv',
      'BilledCost,\u0000BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory\n1,USD,a,b,Usage\n',
      /NUL/,
    ],
  ])('answers %s with a 400 naming it (each was a 500)', async (_what, method, url, contentType, payload, message) => {
    const res = await app
      .getHttpAdapter()
      .getInstance()
      .inject({ method: method as 'PUT', url, headers: { ...authHeaders(), 'content-type': contentType }, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(message);
  });

  it(
    'answers every generated body with a 2xx or a 4xx carrying a code, never a 5xx, and stays healthy',
    async () => {
      for (const key of bodyRoutes(app)) await fuzzRouteBodies(app, key, { seeds, params: { importId: [importId] } });
    },
    FUZZ_TIMEOUT_MS,
  );
});
