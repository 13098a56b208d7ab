import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { SMTPServer } from 'smtp-server';
import { STREAMS, type StreamKey } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { createLogger } from '@arcwatch/runtime';
import {
  TEST_REDIS_URL,
  authHeaders,
  createTestDatabase,
  eventually,
  freePort,
  testNamespace,
  uniqueToken,
  type TestDatabase,
} from '@arcwatch/testing';
import { createNotifierApp } from './app';
import { StandIn, testConfig } from './testing/notifier-test-kit';

/**
 * Every secret the notifier is given — its tokens, its NATS password, the webhook signing secret,
 * a Slack webhook URL, a PagerDuty routing key, an SMTP password — after a flow that uses each of
 * them (an alert delivered to every receiver and escalated through a BullMQ timer) appears in none
 * of what the notifier writes: its logs at debug level, the events it published on JetStream, its
 * database rows (outbox, notification log, alerts, escalations, the token store) and its Redis
 * keys (BullMQ job payloads). The routing key may appear only in the PagerDuty request, which is
 * what it is for; the Slack URL only as the address the message was posted to.
 */
describe('secrets never reach logs, events, rows or job payloads', () => {
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-secrets-'));
  const hook = new StandIn();
  const SECRETS = {
    adminToken: `aw_${uniqueToken('admin')}_0123456789`,
    ingestToken: `aw_${uniqueToken('ingest')}_0123456789`,
    natsPassword: uniqueToken('natspw'),
    webhookSecret: uniqueToken('hmac'),
    slackPath: `T0SECRET/B0SECRET/${uniqueToken('slack')}`,
    pagerdutyKey: uniqueToken('pdkey'),
    smtpPassword: uniqueToken('smtppw'),
  };
  const logs: string[] = [];
  const mails: string[] = [];
  let smtp: SMTPServer;
  let db: TestDatabase;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    db = await createTestDatabase();
    const base = await hook.start();
    const smtpPort = await freePort();
    smtp = new SMTPServer({
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      onAuth: (auth, _session, done) =>
        auth.password === SECRETS.smtpPassword ? done(null, { user: auth.username }) : done(new Error('bad password')),
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
    writeFileSync(
      path.join(dir, 'am.yml'),
      `route:
  receiver: team
  group_by: [alertname]
  group_wait: 50ms
  group_interval: 10m
receivers:
  - name: team
    webhook_configs:
      - url: ${base}/hook
    slack_configs:
      - api_url: ${base}/slack/${SECRETS.slackPath}
        channel: '#gpu'
    email_configs:
      - to: sre@example.invalid
        from: arcwatch@example.invalid
        smarthost: 127.0.0.1:${smtpPort}
        auth_username: arcwatch
        auth_password: ${SECRETS.smtpPassword}
        require_tls: false
  - name: pd
    pagerduty_configs:
      - routing_key: ${SECRETS.pagerdutyKey}
        url: ${base}/pd
arcwatch:
  escalation_policies:
    - name: p0
      matchers: ['severity="P0"']
      ack_timeout: 1h
      levels:
        - { delay: 0s, targets: [pd] }
        - { delay: 1h, targets: [pd] }
`,
    );
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    });
    app = await createNotifierApp({
      config: testConfig(db.url, ns, {
        NOTIFIER_CONFIG: path.join(dir, 'am.yml'),
        NOTIFIER_WEBHOOK_SECRET: SECRETS.webhookSecret,
        AUTH_BOOTSTRAP_TOKEN: SECRETS.adminToken,
        AUTH_INGEST_TOKEN: SECRETS.ingestToken,
        // The shared test server has no users: it accepts any credentials, so the password is sent
        // and would be seen if the notifier printed its connection options.
        NATS_USER: 'notifier',
        NATS_PASSWORD: SECRETS.natsPassword,
        LOG_LEVEL: 'debug',
      }),
      logger: createLogger('notifier', 'debug', sink),
    });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await hook.stop();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    await db?.drop();
    const redis = new Redis(TEST_REDIS_URL);
    const keys = await redis.keys(`aw-test-${ns}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const found = (text: string): string[] =>
    Object.entries(SECRETS)
      .filter(([, secret]) => text.includes(secret))
      .map(([name]) => name);

  it('uses every secret, then finds none of them in logs, events, rows or Redis', async () => {
    const fastify = app.getHttpAdapter().getInstance();
    const posted = await fastify.inject({
      method: 'POST',
      url: '/api/v2/alerts',
      headers: authHeaders(SECRETS.adminToken),
      // A P0 pages through its escalation policy (PagerDuty, a BullMQ timer for level 2); a P2 goes
      // down the routes (signed webhook, Slack, e-mail).
      payload: [
        { labels: { alertname: 'GpuFellOffBus', severity: 'P0', gpu: '3' }, annotations: { summary: 'gone' } },
        { labels: { alertname: 'GpuHot', severity: 'P2', gpu: '4' }, annotations: { summary: 'hot' } },
      ],
    });
    expect(posted.statusCode).toBe(200);
    // Each secret did its work: the token let the post in, the webhook is signed, Slack and PagerDuty
    // were reached at their secret address and key, the mail went through SMTP authentication.
    const problems = () =>
      logs
        .filter((l) => /"level":(40|50)/.test(l))
        .join('')
        .slice(0, 4000);
    const explain = async (e: Error) => {
      const log = await fastify.inject({
        method: 'GET',
        url: '/api/v1/notifications',
        headers: authHeaders(SECRETS.adminToken),
      });
      throw new Error(
        `${e.message}; warnings and errors logged: ${problems()}; received: ${hook.received.map((r) => r.path).join(', ')}; notifications: ${log.body.slice(0, 3000)}`,
      );
    };
    const signed = await eventually(() => hook.on('/hook')[0], 15_000, 'webhook').catch(explain);
    expect(Object.keys(signed.headers).some((h) => h.includes('signature'))).toBe(true);
    await eventually(() => hook.on(`/slack/${SECRETS.slackPath}`)[0], 15_000, 'slack');
    const paged = await eventually(() => hook.on('/pd')[0], 15_000, 'pagerduty');
    expect(paged.body).toMatchObject({ routing_key: SECRETS.pagerdutyKey, event_action: 'trigger' });
    await eventually(() => mails[0], 15_000, 'mail').catch(explain);
    await eventually(() => logs.some((l) => l.includes('"msg"')) || undefined, 5_000, 'logs');

    // Where they must not be.
    expect(found(logs.join(''))).toEqual([]);

    const bus = app.get(EventBus);
    const events: string[] = [];
    for (const key of Object.keys(STREAMS) as StreamKey[]) {
      const info = await bus.jsm.streams.info(bus.streamName(key)).catch(() => undefined);
      if (!info || info.state.messages === 0) continue;
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await bus.jsm.streams.getMessage(bus.streamName(key), { seq }).catch(() => undefined);
        if (m) events.push(`${m.subject} ${new TextDecoder().decode(m.data)}`);
      }
    }
    expect(events.some((e) => e.includes('aw.notify.v1.'))).toBe(true);
    expect(found(events.join('\n'))).toEqual([]);

    const pool = new Pool({ connectionString: db.url });
    try {
      const { rows: tables } = await pool.query<{ s: string; t: string }>(
        `SELECT table_schema AS s, table_name AS t FROM information_schema.tables
          WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'`,
      );
      const dump: string[] = [];
      for (const { s, t } of tables) {
        const { rows } = await pool.query(`SELECT row_to_json(x)::text AS j FROM "${s}"."${t}" x`);
        dump.push(...rows.map((r: { j: string }) => `${s}.${t} ${r.j}`));
      }
      // The outbox relay deletes a row once it is published, so rows still waiting are read here and
      // the published ones were read from the streams above.
      expect(tables.map((x) => `${x.s}.${x.t}`)).toEqual(expect.arrayContaining(['notifier.outbox']));
      expect(dump.some((r) => r.includes('GpuFellOffBus'))).toBe(true);
      expect(found(dump.join('\n'))).toEqual([]);
    } finally {
      await pool.end();
    }

    const redis = new Redis(TEST_REDIS_URL);
    try {
      const keys = await redis.keys(`aw-test-${ns}:*`);
      const values: string[] = [];
      for (const k of keys) {
        const type = await redis.type(k);
        if (type === 'hash') values.push(k, JSON.stringify(await redis.hgetall(k)));
        else if (type === 'string') values.push(k, (await redis.get(k)) ?? '');
        else if (type === 'list') values.push(k, ...(await redis.lrange(k, 0, -1)));
        else if (type === 'zset') values.push(k, ...(await redis.zrange(k, '0', '-1')));
        else if (type === 'set') values.push(k, ...(await redis.smembers(k)));
        else if (type === 'stream') values.push(k, JSON.stringify(await redis.xrange(k, '-', '+')));
      }
      // The level-2 timer waits in BullMQ: its payload is there to be read.
      expect(keys.some((k) => /:notifier-escalation:/.test(k))).toBe(true);
      expect(values.some((v) => v.includes('GpuFellOffBus') || v.includes('fingerprint'))).toBe(true);
      expect(found(values.join('\n'))).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
