import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ALERT_CONTEXT_SUBJECTS, affectedTenantsRequestV1Schema, gpuCostRequestV1Schema } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { authHeaders, createTestDatabase, eventually, testNamespace, type TestDatabase } from '@arcwatch/testing';
import { createNotifierApp } from '../app';
import { StandIn, testConfig } from '../testing/notifier-test-kit';

/**
 * Context in messages over NATS request/reply: the test answers as tracing and billing would
 * (the requests are checked against their contracts); an answer that never comes does not hold
 * the notification back.
 */
describe('context from tracing and billing in notifications', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  const hook = new StandIn();
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-context-'));
  const requests: unknown[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const base = await hook.start();
    writeFileSync(
      path.join(dir, 'am.yml'),
      `route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\nreceivers:\n  - name: hook\n    webhook_configs: [{ url: '${base}/hook' }]\n`,
    );
    app = await createNotifierApp({
      config: testConfig(db.url, ns, {
        NOTIFIER_CONFIG: path.join(dir, 'am.yml'),
        NOTIFIER_CONTEXT_TIMEOUT_MS: '2000',
        NOTIFIER_CONSOLE_URL: 'http://console.example:8080/',
      }),
    });
    await app.init();
    const bus = app.get(EventBus);
    bus.nc.subscribe(bus.naming.toWire(ALERT_CONTEXT_SUBJECTS.affectedTenants), {
      callback: (_err, msg) => {
        const req = affectedTenantsRequestV1Schema.parse(msg.json());
        requests.push(req);
        // The "silent" instance's tracing never answers.
        if (req.instance === 'vllm-silent') return;
        msg.respond(
          JSON.stringify({
            tenants: [
              { tenant: 'acme', requests: 120, errors: 7 },
              { tenant: 'globex', requests: 40, errors: 0 },
            ],
          }),
        );
      },
    });
    bus.nc.subscribe(bus.naming.toWire(ALERT_CONTEXT_SUBJECTS.gpuCost), {
      callback: (_err, msg) => {
        const req = gpuCostRequestV1Schema.parse(msg.json());
        if (req.instance === 'vllm-silent') return;
        msg.respond(JSON.stringify({ currency: 'USD', perHour: '98.32', gpus: req.gpus.length }));
      },
    });
  });

  afterAll(async () => {
    await app?.close();
    await hook.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (labels: Record<string, string>) =>
    app
      .getHttpAdapter()
      .getInstance()
      .inject({
        method: 'POST',
        url: '/api/v2/alerts',
        headers: authHeaders(),
        payload: [{ labels, annotations: { summary: 'TTFT p99 over 2 s' } }],
      });

  it('adds the affected tenants, the GPUs cost per hour and a console link', async () => {
    await post({ alertname: 'TtftHigh', instance: 'vllm-3', Hostname: 'gpu-node-a', UUID: 'GPU-1111' });
    const got = await eventually(
      () => hook.on('/hook').find((r) => JSON.stringify(r.body).includes('TtftHigh')),
      15_000,
      'notification',
    );
    const annotations = (got.body.alerts as { annotations: Record<string, string>; fingerprint: string }[])[0];
    expect(annotations.annotations).toEqual({
      summary: 'TTFT p99 over 2 s',
      arcwatch_affected_tenants: 'acme (120 requests, 7 errors), globex (40 requests, 0 errors)',
      arcwatch_gpu_cost_per_hour: '98.32 USD (1 GPUs)',
      arcwatch_console: `http://console.example:8080/alerts/${annotations.fingerprint}`,
    });
    expect(requests[0]).toEqual({ instance: 'vllm-3', node: 'gpu-node-a', gpus: ['GPU-1111'], windowSeconds: 300 });
  });

  it('a context answer that never comes does not hold the notification back', async () => {
    const t0 = Date.now();
    await post({ alertname: 'SilentContext', instance: 'vllm-silent' });
    const got = await eventually(
      () => hook.on('/hook').find((r) => JSON.stringify(r.body).includes('SilentContext')),
      15_000,
      'notification',
    );
    // group_wait is 1 s; the unanswered requests wait 2 s in the background.
    expect(got.at - t0).toBeLessThan(1900);
    const a = (got.body.alerts as { annotations: Record<string, string> }[])[0];
    expect(a.annotations.arcwatch_affected_tenants).toBeUndefined();
    expect(a.annotations.arcwatch_console).toMatch(/^http:\/\/console\.example:8080\/alerts\/[0-9a-f]{16}$/);
  });
});
