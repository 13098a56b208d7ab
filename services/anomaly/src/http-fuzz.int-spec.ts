import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { registeredRoutes } from '@arcwatch/runtime';
import {
  bodyRoutes,
  createTestDatabase,
  FUZZ_TIMEOUT_MS,
  fuzzRouteBodies,
  testNamespace,
  type TestDatabase,
} from '@arcwatch/testing';
import { createAnomalyApp } from './app';
import { testConfig } from './testing/anomaly-test-kit';

const RULES = `groups:
  - name: serving
    rules:
      - alert: NodeDown
        expr: node_up == 0
`;

/**
 * anomaly reads only (alerts and rules): no route takes a body today. Every one found is fuzzed
 * all the same, so a POST added later is covered, and generated bodies sent to its read routes
 * with a body method must be refused with a code, not crash the router.
 */
describe('anomaly HTTP under generated bodies', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-anomaly-fuzz-'));
  let db: TestDatabase;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    db = await createTestDatabase();
    writeFileSync(path.join(dir, 'rules.yml'), RULES);
    app = await createAnomalyApp({
      config: testConfig(db.url, testNamespace(), { ANOMALY_RULE_FILES: path.join(dir, 'rules.yml') }),
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'answers generated bodies on every route with a 2xx or a 4xx carrying a code, never a 5xx',
    async () => {
      const reads = registeredRoutes(app)
        .filter((r) => r.method === 'GET' && !r.url.includes(':'))
        .map((r) => `POST ${r.url}`);
      expect(reads).toContain('POST /api/v1/alerts');
      for (const key of [...bodyRoutes(app), ...reads]) await fuzzRouteBodies(app, key);
    },
    FUZZ_TIMEOUT_MS,
  );
});
