/**
 * The POST to Alertmanager when the connection fails under it (a kept-alive connection closed by
 * the server as it is reused): the alert still arrives, on a second connection, and nothing is
 * counted as failed. Alertmanager is a local HTTP server here that drops the first request's
 * connection without answering; NATS and PostgreSQL are the real ones.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { EventBus } from '@arcwatch/messaging';
import {
  authHeaders,
  createTestDatabase,
  eventually,
  freePort,
  testNamespace,
  TestClock,
  type TestDatabase,
} from '@arcwatch/testing';
import { createAnomalyApp } from '../app';
import { publishVllmUp, tearDown, testConfig } from '../testing/anomaly-test-kit';

describe('anomaly → Alertmanager when a connection fails under the POST', () => {
  let db: TestDatabase;
  let bus: EventBus;
  let app: NestFastifyApplication;
  let server: Server;
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'anomaly-am-retry-'));
  const T0 = Math.floor(Date.now() / 1000) * 1000;
  let requests = 0;
  const received: Array<Array<{ labels: Record<string, string> }>> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++;
      if (requests === 1) {
        req.socket.destroy(); // no answer: the client sees the connection go
        return;
      }
      let body = '';
      req.on('data', (b: Buffer) => (body += b.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as Array<{ labels: Record<string, string> }>);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const rules = path.join(dir, 'rules.yml');
    writeFileSync(
      rules,
      'groups:\n  - name: vllm\n    rules:\n      - alert: InferenceServiceDown\n        expr: up{job="vllm"} == 0\n',
    );
    db = await createTestDatabase();
    bus = await EventBus.connect({ name: 'anomaly-am-retry-test', namespace: ns });
    app = await createAnomalyApp({
      config: testConfig(db.url, ns, {
        ANOMALY_RULE_FILES: rules,
        ANOMALY_ALERTMANAGER_URL: `http://127.0.0.1:${port}`,
      }),
      clock: new TestClock(T0),
    });
    await app.init();
  }, 60_000);

  afterAll(async () => {
    await tearDown({ app, bus, db });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the alert again on a new connection, once', async () => {
    await publishVllmUp(bus, 'retry-1', T0, 0);
    await eventually(() => (received.length === 1 ? true : undefined), 30_000, 'the alert received');
    expect(requests).toBe(2);
    expect(received[0].map((a) => a.labels.alertname)).toEqual(['InferenceServiceDown']);
    const metrics = await app
      .getHttpAdapter()
      .getInstance()
      .inject({ method: 'GET', url: '/metrics', headers: authHeaders() });
    expect(/arcwatch_anomaly_alertmanager_posts_failed_total (\d+)/.exec(metrics.body)?.[1] ?? '0').toBe('0');
  });
});
