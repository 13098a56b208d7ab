/**
 * Faults under load, every service as its own process against this test's own nats-server
 * (JetStream on disk, started with infra/nats/users.conf: each service connects as its own NATS
 * user), PostgreSQL cluster and redis-server (append-only), so that each can be restarted without
 * touching the shared servers. A loader sends rounds of work — request lifecycle events to
 * tracing, samples of a fixed series set to the collector, an alert to the notifier — retrying
 * whatever fails with the same ids, as a gateway or Prometheus would. During each round one
 * service is SIGKILLed and started again, or one server is restarted; afterwards every
 * projection holds exactly what was sent (requests assembled, requests costed, samples stored,
 * notifications delivered, cost events published once each), and the recovery time (kill → ready
 * and caught up) is recorded. ARCWATCH_RECORD_FAULTS=1 writes the times into docs/benchmarks.md.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { EventBus } from '@arcwatch/messaging';
import { readStream } from '@arcwatch/messaging/src/testing/int-helpers';
import { cloudEvent } from '@arcwatch/contracts';
import { REPO_ROOT, eventually, freePort, uniqueToken } from '@arcwatch/testing';
import { NATS_SERVICES, passwordVariable, renderUsersConf } from './docs/nats-permissions';
import { startStack, type ServiceName, type Stack } from './support/stack';

const REQUESTS_PER_ROUND = 40;
const SERIES = ['a', 'b', 'c', 'd'];
const ADMIN_USER = 'e2e-admin';
const PASSWORDS = Object.fromEntries(NATS_SERVICES.map((s) => [s, `${s}-${uniqueToken('pw')}`]));
const ADMIN_PASSWORD = uniqueToken('pw');

interface Recovery {
  fault: string;
  readyMs: number;
  caughtUpMs: number;
}

describe('faults under load: nothing lost, nothing duplicated', () => {
  let stack: Stack;
  let dir: string;
  const hook = http.createServer();
  /**
   * alertname → the notifications the webhook stand-in received, by Idempotency-Key. Delivery is
   * at least once: a notification the notifier was killed in the middle of sending (received
   * here, not yet recorded as delivered) is sent again by the next leader with the same key and
   * body, and a receiver that honours the key counts it once. A second notification of the same
   * alert would carry another key, and is counted.
   */
  const delivered = new Map<string, Map<string, string>>();
  /** Deliveries repeated with the same key (a resend after a kill); their bodies must match. */
  const resent: Array<{ alertname: string; sameBody: boolean }> = [];
  const sent = { requests: 0, samples: 0, alerts: [] as string[] };
  const recoveries: Recovery[] = [];
  let round = 0;
  let lastSampleMs = 0;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-faults-'));
    hook.on('request', (req, res) => {
      let body = '';
      req.on('data', (b: Buffer) => (body += b.toString()));
      req.on('end', () => {
        const msg = JSON.parse(body) as { alerts: Array<{ status: string; labels: Record<string, string> }> };
        // Without the header every delivery counts on its own, so a duplicate still shows.
        const key = String(req.headers['idempotency-key'] ?? uniqueToken('no-key'));
        // Firing notifications only: an alert that outlives resolve_timeout (a slow run) is resolved
        // and announced once more, as it should be.
        for (const a of msg.alerts.filter((x) => x.status === 'firing')) {
          const byKey = delivered.get(a.labels.alertname) ?? new Map<string, string>();
          delivered.set(a.labels.alertname, byKey);
          const before = byKey.get(key);
          if (before !== undefined) resent.push({ alertname: a.labels.alertname, sameBody: before === body });
          byKey.set(key, body);
        }
        res.writeHead(200).end('{}');
      });
    });
    const hookPort = await freePort();
    await new Promise<void>((resolve) => hook.listen(hookPort, '127.0.0.1', resolve));
    const notifierConfig = path.join(dir, 'notifier.yml');
    fs.writeFileSync(
      notifierConfig,
      [
        'route: { receiver: hook, group_by: [alertname], group_wait: 200ms, group_interval: 1s, repeat_interval: 1h }',
        `receivers: [{ name: hook, webhook_configs: [{ url: 'http://127.0.0.1:${hookPort}/hook' }] }]`,
        '',
      ].join('\n'),
    );
    const rules = path.join(dir, 'faults.rules.yml');
    fs.writeFileSync(
      rules,
      [
        'groups:',
        '  - name: faults',
        '    interval: 1s',
        '    rules:',
        '      - alert: FaultProbeHigh',
        '        expr: fault_probe{series="a"} > 1000',
        '        labels: { severity: P3 }',
        '',
      ].join('\n'),
    );
    const natsUser = (svc: ServiceName) => ({ NATS_USER: svc, NATS_PASSWORD: PASSWORDS[svc] });
    stack = await startStack({
      services: ['collector', 'tracing', 'billing', 'anomaly', 'notifier', 'console'],
      servers: 'own',
      natsConfig: renderUsersConf(undefined, [`{ user: "${ADMIN_USER}", password: "${ADMIN_PASSWORD}" }`]),
      natsEnv: Object.fromEntries(NATS_SERVICES.map((s) => [passwordVariable(s), PASSWORDS[s]])),
      // Start-up at info, so that the check below reads what a service says about its connections.
      commonEnv: { LOG_LEVEL: 'info' },
      env: {
        collector: natsUser('collector'),
        tracing: natsUser('tracing'),
        billing: natsUser('billing'),
        notifier: { ...natsUser('notifier'), NOTIFIER_CONFIG: notifierConfig },
        console: natsUser('console'),
        anomaly: { ...natsUser('anomaly'), ANOMALY_RULE_FILES: rules, ANOMALY_EVALUATION_INTERVAL_MS: '1000' },
      },
    });
  }, 240_000);

  afterAll(async () => {
    hook.close();
    await stack?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (recoveries.length > 0) writeRecoveries(recoveries);
  });

  /** Retries until the service takes it (2xx), as a client that outlives a restart does. */
  async function deliver(svc: ServiceName, route: string, init: RequestInit): Promise<void> {
    const deadline = Date.now() + 120_000;
    let last = '';
    for (;;) {
      try {
        const res = await stack.fetch(svc, route, { ...init, signal: AbortSignal.timeout(10_000) });
        if (res.ok) return;
        last = `HTTP ${res.status} ${(await res.text()).slice(0, 200)}`;
        if (res.status < 500 && res.status !== 429) throw new Error(`${svc} ${route} refused: ${last}`);
      } catch (err) {
        if (String(err).includes('refused:')) throw err;
        last = String(err);
      }
      if (Date.now() > deadline) throw new Error(`${svc} ${route} never took it: ${last}\n${stack.logs()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** One round of work: requests to tracing (two batches), samples to the collector, one alert. */
  async function sendRound(): Promise<void> {
    const r = ++round;
    const now = Date.now();
    const events = Array.from({ length: REQUESTS_PER_ROUND }, (_, i) => {
      const base = {
        requestId: `fault-r${r}-q${i}`,
        tenant: `tenant-${i % 3}`,
        instance: 'vllm-fault-0',
        node: 'gpu-node-fault',
        model: 'llama-3.1-8b',
      };
      return [
        { ...base, kind: 'received', time: new Date(now - 900 + i).toISOString() },
        {
          ...base,
          kind: 'completed',
          time: new Date(now - 400 + i).toISOString(),
          promptTokens: 10,
          completionTokens: 5,
        },
      ];
    }).flat();
    const half = events.length / 2;
    for (const batch of [events.slice(0, half), events.slice(half)]) {
      await deliver('tracing', '/api/v1/requests/events', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events: batch }),
      });
    }
    sent.requests += REQUESTS_PER_ROUND;

    lastSampleMs = Math.max(lastSampleMs + 1, now);
    const text = SERIES.map((s) => `fault_probe{series="${s}"} ${r} ${lastSampleMs}`).join('\n') + '\n';
    await deliver('collector', '/api/v1/import/prometheus', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'idempotency-key': `fault-round-${r}` },
      body: text,
    });
    sent.samples += SERIES.length;

    const alertname = `FaultRound${r}`;
    await deliver('notifier', '/api/v2/alerts', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // An explicit end an hour ahead, as Prometheus sends one: without it the notifier resolves
      // the alert after resolve_timeout (5 min), and a run that slow would see a resolved notification.
      body: JSON.stringify([
        {
          labels: { alertname, severity: 'P3' },
          startsAt: new Date(now).toISOString(),
          endsAt: new Date(now + 3_600_000).toISOString(),
        },
      ]),
    });
    sent.alerts.push(alertname);
  }

  async function sql<T>(text: string): Promise<T[]> {
    const c = new Client({ connectionString: stack.databaseUrl });
    await c.connect();
    try {
      return (await c.query(text)).rows as T[];
    } finally {
      await c.end();
    }
  }

  async function projections() {
    const [tracing] = await sql<{ n: number }>('SELECT count(*)::int AS n FROM tracing.requests');
    const [billing] = await sql<{ n: number }>('SELECT count(*)::int AS n FROM billing.request_intervals');
    const q = encodeURIComponent('sum(count_over_time(fault_probe[1h]))');
    const body = await stack.get<{ data: { result: Array<{ value: [number, string] }> } }>(
      'collector',
      `/api/v1/query?query=${q}`,
    );
    const samples = Number(body.data.result[0]?.value[1] ?? 0);
    const notifications = sent.alerts.reduce((n, a) => n + (delivered.get(a)?.size ?? 0), 0);
    return { requests: tracing.n, billed: billing.n, samples, notifications };
  }

  const expected = () => ({
    requests: sent.requests,
    billed: sent.requests,
    samples: sent.samples,
    notifications: sent.alerts.length,
  });

  /**
   * The first check that did not catch up. Every later check compares with everything sent
   * before it, so after one miss the rest would each wait out their full time to fail the same
   * way: they stop at once instead.
   */
  let behind: string | undefined;
  function stillExact(): void {
    if (behind !== undefined) throw new Error(`not run: the counts were already off after ${behind}`);
  }

  /** Permission violations in the NATS server's log, but for the forged publish of the first test. */
  function ownViolations(): string[] {
    const servers = stack.servers;
    if (!servers) throw new Error('own servers expected');
    return servers.nats
      .log()
      .split('\n')
      .filter((l) => /Violation/.test(l) && !/aw\.cost\.v1\.allocated\.acme/.test(l));
  }

  async function caughtUp(what: string): Promise<void> {
    let last: unknown;
    await eventually(
      async () => {
        last = await projections();
        return JSON.stringify(last) === JSON.stringify(expected()) ? true : undefined;
      },
      // Generous: on a machine busy with other test runs one run lagged past 90 s, then caught up exactly.
      150_000,
      `${what}: caught up (want ${JSON.stringify(expected())})`,
    ).catch((err: Error) => {
      behind = `"${what}" (want ${JSON.stringify(expected())}, last seen ${JSON.stringify(last)})`;
      throw new Error(`${err.message}; last seen ${JSON.stringify(last)}\n${stack.logs()}`);
    });
  }

  /** A round with `fault` in the middle of it; returns when the stack is ready and caught up again. */
  async function underFault(name: string, fault: () => Promise<void>, ready: () => Promise<void>): Promise<void> {
    stillExact();
    const first = sendRound();
    const t0 = Date.now();
    await fault();
    const work = Promise.all([first, sendRound()]);
    await ready();
    const readyMs = Date.now() - t0;
    await work;
    await caughtUp(name);
    recoveries.push({ fault: name, readyMs, caughtUpMs: Date.now() - t0 });
  }

  it('runs with a NATS user per service, and a publish outside its own subjects is refused', async () => {
    await sendRound();
    await caughtUp('before any fault');
    // anomaly's rule fires on the collector's samples and its alert reaches the notifier: every
    // service published and consumed through its own permissions.
    await deliver('collector', '/api/v1/import/prometheus', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: `fault_probe{series="a"} 5000 ${++lastSampleMs}\n`,
    });
    sent.samples += 1;
    await eventually(() => ((delivered.get('FaultProbeHigh')?.size ?? 0) > 0 ? true : undefined), 60_000, 'rule alert');

    const asTracing = await EventBus.connect({
      url: stack.natsUrl,
      name: 'e2e-as-tracing',
      user: 'tracing',
      pass: PASSWORDS.tracing,
      publishTimeoutMs: 2_000,
    });
    try {
      const forged = cloudEvent({
        type: 'io.arcwatch.cost.allocated.v1',
        source: 'e2e',
        id: uniqueToken('forged'),
        time: new Date().toISOString(),
        data: { tenant: 'acme' },
      });
      await expect(asTracing.publish('aw.cost.v1.allocated.acme', forged)).rejects.toThrow(/permission|timeout/i);
    } finally {
      await asTracing.drain();
    }
    const servers = stack.servers;
    if (!servers) throw new Error('own servers expected');
    await eventually(
      () => (/Publish Violation.*"tracing".*aw\.cost\.v1\.allocated\.acme/.test(servers.nats.log()) ? true : undefined),
      10_000,
      `the server logs the refused publish\n${servers.nats.log().slice(-2_000)}`,
    );
    // No service printed its NATS password (start-up logs included).
    for (const svc of ['collector', 'tracing', 'billing', 'anomaly', 'notifier', 'console'] as const)
      expect([svc, stack.proc(svc).log().includes(PASSWORDS[svc])]).toEqual([svc, false]);
    // And no service met a refusal of its own.
    expect(ownViolations()).toEqual([]);
  }, 180_000);

  for (const svc of ['tracing', 'billing', 'collector', 'notifier', 'anomaly', 'console'] as const) {
    it(`SIGKILL ${svc} under load, start it again`, async () => {
      await underFault(
        `SIGKILL ${svc}`,
        () => stack.kill(svc),
        async () => {
          await stack.start(svc);
        },
      );
    }, 240_000);
  }

  it('restart NATS (JetStream on disk) under load', async () => {
    const nats = stack.servers?.nats;
    if (!nats) throw new Error('own servers expected');
    await underFault(
      'restart NATS',
      () => nats.stop(),
      async () => {
        await nats.start();
        for (const svc of ['collector', 'tracing', 'billing', 'anomaly', 'notifier', 'console'] as const)
          await stack.ready(svc);
      },
    );
  }, 240_000);

  it('restart PostgreSQL (immediate shutdown, as a crash) under load', async () => {
    const pg = stack.servers?.postgres;
    if (!pg) throw new Error('own servers expected');
    await underFault(
      'restart PostgreSQL',
      () => pg.stop('SIGQUIT'),
      async () => {
        await pg.start();
        for (const svc of ['collector', 'tracing', 'billing', 'anomaly', 'notifier', 'console'] as const)
          await stack.ready(svc);
      },
    );
  }, 240_000);

  it('restart Redis (append-only file) under load', async () => {
    const redis = stack.servers?.redis;
    if (!redis) throw new Error('own servers expected');
    await underFault(
      'restart Redis',
      () => redis.stop(),
      async () => {
        await redis.start();
        await stack.ready('notifier');
      },
    );
  }, 240_000);

  it('after every fault: each request costed once and each cost event published once', async () => {
    stillExact();
    // Billing closes a window once the request records have moved past it (5 s windows, 2 s
    // lateness here): one more round, later, closes the windows of every round before it.
    await new Promise((r) => setTimeout(r, 8_000));
    await sendRound();
    await caughtUp('closing round');
    const closed = sent.requests - REQUESTS_PER_ROUND;
    let costed = -1;
    await eventually(
      async () => {
        const [r] = await sql<{ n: number }>(
          `SELECT count(DISTINCT request_id)::int AS n FROM billing.allocation_lines
            WHERE request_id LIKE 'fault-r%' AND request_id NOT LIKE 'fault-r${round}-%'`,
        );
        costed = r.n;
        return r.n === closed ? true : undefined;
      },
      60_000,
      `every one of the ${closed} requests before the closing round costed`,
    ).catch((err: Error) => {
      throw new Error(`${err.message} (costed: ${costed})\n${stack.logs()}`);
    });
    const admin = await EventBus.connect({
      url: stack.natsUrl,
      name: 'e2e-admin',
      user: ADMIN_USER,
      pass: ADMIN_PASSWORD,
    });
    try {
      /** Every cost event id on the stream, in stream order (duplicates kept). */
      const published = async (): Promise<string[]> =>
        (await readStream<{ id: string }>(admin, 'cost')).map((m) => m.body.id);
      // A cost record is committed with its outbox row; the relay publishes it a moment later
      // (on a loaded machine, after this check first looks): wait until every record's event is out.
      let ids: string[] = [];
      let records: string[] = [];
      await eventually(
        async () => {
          records = (await sql<{ event_id: string }>('SELECT event_id FROM billing.cost_records')).map(
            (r) => r.event_id,
          );
          ids = await published();
          const out = new Set(ids);
          return records.length > 0 && records.every((id) => out.has(id)) ? true : undefined;
        },
        60_000,
        'every cost record published',
      ).catch((err: Error) => {
        const out = new Set(ids);
        throw new Error(
          `${err.message}: ${records.filter((id) => !out.has(id)).length} of ${records.length} not on the stream`,
        );
      });
      expect(ids.length).toBeGreaterThan(0);
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(ids)).toEqual(new Set(records));
    } finally {
      await admin.drain();
    }
    // Nothing more arrives later: the counts stay exact.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await projections()).toEqual(expected());
    // A resend is the notification that was interrupted, byte for byte.
    expect(resent.filter((r) => !r.sameBody)).toEqual([]);
    // Through every fault, no service met a refusal of its own permissions (a permission a path
    // uses only under load, such as tracing's read of its oldest unacked message, shows here).
    expect(ownViolations()).toEqual([]);
  }, 300_000);
});

/** Writes the measured recovery times between the markers of docs/benchmarks.md (ARCWATCH_RECORD_FAULTS=1). */
function writeRecoveries(rows: Recovery[]): void {
  const file = path.join(REPO_ROOT, '.arcwatch', 'faults.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(rows, null, 2) + '\n');
  if (process.env.ARCWATCH_RECORD_FAULTS !== '1') return;
  const doc = path.join(REPO_ROOT, 'docs', 'benchmarks.md');
  const begin = '<!-- faults:begin (e2e/faults.e2e-spec.ts, ARCWATCH_RECORD_FAULTS=1) -->';
  const end = '<!-- faults:end -->';
  const section = [
    begin,
    '',
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ` +
      `load average ${os.loadavg()[0].toFixed(2)} at the end, every service and server on the same machine. ` +
      `Load: rounds of ${REQUESTS_PER_ROUND} requests, ${SERIES.length} samples and one alert, retried by the client until taken.`,
    '',
    '| fault | kill → ready | kill → ready and caught up |',
    '| --- | --- | --- |',
    ...rows.map((r) => `| ${r.fault} | ${(r.readyMs / 1000).toFixed(1)} s | ${(r.caughtUpMs / 1000).toFixed(1)} s |`),
    '',
    end,
  ].join('\n');
  const text = fs.readFileSync(doc, 'utf8');
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  const next =
    i >= 0 && j > i
      ? text.slice(0, i) + section + text.slice(j + end.length)
      : `${text.trimEnd()}\n\n## Faults and recovery\n\n${section}\n`;
  fs.writeFileSync(doc, next);
}
