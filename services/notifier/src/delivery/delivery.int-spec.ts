import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SMTPServer } from 'smtp-server';
import { EventBus } from '@arcwatch/messaging';
import {
  authHeaders,
  createTestDatabase,
  eventually,
  freePort,
  testNamespace,
  type TestDatabase,
} from '@arcwatch/testing';
import { createNotifierApp } from '../app';
import { StandIn, testConfig } from '../testing/notifier-test-kit';

/**
 * Deliveries against local stand-ins: PagerDuty answering 202, 400, 429 with Retry-After, 500,
 * or never; Slack; a webhook receiver checking the signature; e-mail through a local SMTP server.
 * Failures for good show in the API and as aw.notify.v1.failed events.
 */
describe('delivery (stand-ins for Slack, PagerDuty, a webhook receiver and SMTP)', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  const s = new StandIn();
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-delivery-'));
  const mails: string[] = [];
  let smtp: SMTPServer;

  const http = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    app
      .getHttpAdapter()
      .getInstance()
      .inject({ method, url, payload: payload as object | undefined, headers: authHeaders() });
  const post = (alertname: string, extra: Record<string, string> = {}) =>
    http('POST', '/api/v2/alerts', [
      { labels: { alertname, ...extra }, annotations: { summary: `${alertname} happened` } },
    ]);

  beforeAll(async () => {
    db = await createTestDatabase();
    const base = await s.start();
    const smtpPort = await freePort();
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, done) {
        let text = '';
        stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
        stream.on('end', () => {
          mails.push(text);
          done();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
    const route = (name: string) => `    - matchers: ['alertname="${name}"']\n      receiver: ${name}\n`;
    const names = ['Ok', 'Bad', 'Slow', 'Flaky', 'Hang', 'Chat', 'Hook', 'Mail'];
    writeFileSync(
      path.join(dir, 'am.yml'),
      `route:
  receiver: Ok
  group_by: [alertname]
  group_wait: 50ms
  group_interval: 10m
  repeat_interval: 1h
  routes:
${names.map(route).join('')}
receivers:
${['Ok', 'Bad', 'Slow', 'Flaky', 'Hang'].map((n) => `  - name: ${n}\n    pagerduty_configs:\n      - routing_key: key-${n}\n        url: ${base}/pd/${n}\n`).join('')}
  - name: Chat
    slack_configs:
      - api_url: ${base}/slack
        channel: '#gpu'
  - name: Hook
    webhook_configs:
      - url: ${base}/hook
  - name: Mail
    email_configs:
      - to: sre@example.invalid
        from: arcwatch@example.invalid
        smarthost: 127.0.0.1:${smtpPort}
        require_tls: false
`,
    );
    s.reply = (r, n) => {
      if (r.path === '/pd/Bad')
        return {
          status: 400,
          body: '{"status":"invalid event","message":"Event object is invalid","errors":["Length of \'routing_key\' is incorrect"]}',
        };
      if (r.path === '/pd/Slow' && s.on('/pd/Slow').length === 1)
        return { status: 429, headers: { 'retry-after': '1' }, body: '{"status":"throttle"}' };
      if (r.path === '/pd/Flaky' && s.on('/pd/Flaky').length <= 2) return { status: 500, body: 'oops' };
      if (r.path === '/pd/Hang' && s.on('/pd/Hang').length === 1) return 'hang';
      void n;
      return { status: 202, body: '{"status":"success"}' };
    };
    app = await createNotifierApp({
      config: testConfig(db.url, ns, {
        NOTIFIER_CONFIG: path.join(dir, 'am.yml'),
        NOTIFIER_WEBHOOK_SECRET: 'shh-its-a-secret',
        NOTIFIER_RETRY_MAX_ATTEMPTS: '4',
      }),
    });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await s.stop();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const record = async (alertname: string) =>
    eventually(
      async () => {
        const list = (await http('GET', '/api/v1/notifications?limit=100')).json() as {
          receiver: string;
          status: string;
          attempts: number;
          lastError: string | null;
        }[];
        const r = list.find((x) => x.receiver === alertname);
        return r && r.status !== 'pending' ? r : undefined;
      },
      15_000,
      `${alertname} finished`,
    );

  it('202: delivered on the first attempt', async () => {
    await post('Ok');
    expect(await record('Ok')).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('400: failed for good at once, visible in the API and published as aw.notify.v1.failed.pagerduty', async () => {
    await post('Bad');
    const r = await record('Bad');
    expect(r).toMatchObject({ status: 'failed', attempts: 1 });
    expect(r.lastError).toContain('HTTP 400');
    const failed = (await http('GET', '/api/v1/notifications?status=failed')).json() as { receiver: string }[];
    expect(failed.map((f) => f.receiver)).toContain('Bad');
    const bus = app.get(EventBus);
    const events = await eventually(
      async () => {
        const info = await bus.jsm.streams.info(bus.streamName('notify'), { subjects_filter: '>' });
        const subjects = Object.keys(info.state.subjects ?? {}).map((x) => bus.naming.fromWire(x));
        return subjects.includes('aw.notify.v1.failed.pagerduty') ? subjects : undefined;
      },
      10_000,
      'failed event',
    );
    expect(events).toContain('aw.notify.v1.delivered.pagerduty');
  });

  it('429 with Retry-After: 1: waits about a second, then delivers', async () => {
    await post('Slow');
    expect(await record('Slow')).toMatchObject({ status: 'delivered', attempts: 2 });
    const [a, b] = s.on('/pd/Slow');
    expect(b.at - a.at).toBeGreaterThanOrEqual(900);
  });

  it('500 twice: backs off and delivers on the third attempt, the same body each time', async () => {
    await post('Flaky');
    expect(await record('Flaky')).toMatchObject({ status: 'delivered', attempts: 3 });
    const bodies = s.on('/pd/Flaky').map((r) => r.raw);
    expect(new Set(bodies).size).toBe(1);
    expect(new Set(s.on('/pd/Flaky').map((r) => r.headers['idempotency-key'])).size).toBe(1);
  });

  it('a receiver that never answers: the attempt times out and the retry delivers', async () => {
    await post('Hang');
    expect(await record('Hang')).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('Slack: Block Kit in a coloured attachment with fallback text', async () => {
    await post('Chat', { severity: 'P1' });
    await record('Chat');
    const body = s.on('/slack')[0].body as {
      text: string;
      channel: string;
      attachments: { color: string; blocks: unknown[] }[];
    };
    expect(body.text).toBe('[FIRING:1] Chat (P1) | http://127.0.0.1:9093/#/alerts?receiver=Chat');
    expect(body.channel).toBe('#gpu');
    expect(body.attachments[0].color).toBe('danger');
    expect(body.attachments[0].blocks.length).toBeGreaterThan(1);
  });

  it('webhook: Alertmanager v4 JSON signed with HMAC-SHA256 over the exact body', async () => {
    await post('Hook');
    await record('Hook');
    const r = s.on('/hook')[0];
    expect(r.body).toMatchObject({
      version: '4',
      receiver: 'Hook',
      status: 'firing',
      groupLabels: { alertname: 'Hook' },
      truncatedAlerts: 0,
    });
    expect(r.headers['x-arcwatch-signature-256']).toBe(
      `sha256=${createHmac('sha256', 'shh-its-a-secret').update(r.raw).digest('hex')}`,
    );
  });

  it('e-mail through a local SMTP server with the default subject', async () => {
    await post('Mail');
    expect(await record('Mail')).toMatchObject({ status: 'delivered' });
    expect(mails).toHaveLength(1);
    expect(mails[0]).toContain('Subject: [FIRING:1] Mail');
    expect(mails[0]).toContain('To: sre@example.invalid');
  });
});
