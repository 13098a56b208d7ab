/**
 * Scale-out: two processes of every service that scales — collector (role all: intake and
 * writer), tracing, billing, notifier (role all: API and worker; one dispatches under the
 * dispatch lease, the other stands by) — and the single anomaly process (docs/operations.md,
 * Scaling), against one database and NATS namespace. A loader spreads rounds of work
 * over both replicas of each: request lifecycle events to tracing, pushes of samples to the
 * collector, alerts to the notifier. Each process's own /metrics shows that it took its share
 * (the sums across replicas equal what was sent, so no replica did another's work again), and
 * every projection holds exactly what was sent. Then one replica of each is SIGKILLed in the
 * middle of a round and the survivors finish the work with the same exact counts: requests
 * assembled once, costed once, each cost event published once, samples stored once, each alert
 * notified once.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { EventBus } from '@arcwatch/messaging';
import { readStream } from '@arcwatch/messaging/src/testing/int-helpers';
import { authHeaders, eventually, freePort } from '@arcwatch/testing';
import { startStack, type ServiceName, type Stack } from './support/stack';

const REQUESTS_PER_ROUND = 40;
/** Pushes per round, spread over the collectors; each carries SERIES samples. */
const PUSHES_PER_ROUND = 4;
const SERIES = 4;
const ALERTS_PER_ROUND = 2;
const SCALED = ['collector', 'tracing', 'billing', 'notifier'] as const;

/** Sum of every sample of `name` (all label sets, or those containing `labels`) in a /metrics text. */
function metricSum(text: string, name: string, labels = ''): number {
  let n = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (labels && !line.includes(labels)) continue;
    n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

describe('two replicas of each service: shared work, nothing lost, nothing duplicated', () => {
  let stack: Stack;
  let dir: string;
  const hook = http.createServer();
  /** alertname → the Idempotency-Keys of the notifications the webhook stand-in received. */
  const delivered = new Map<string, Set<string>>();
  /** alertname → POSTs received (a resend after a crash repeats a key). */
  const posts = new Map<string, number>();
  const sent = { requests: 0, samples: 0, pushes: 0, alerts: [] as string[] };
  const dead = new Set<string>();
  let round = 0;
  let lastSampleMs = 0;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-replicas-'));
    hook.on('request', (req, res) => {
      let body = '';
      req.on('data', (b: Buffer) => (body += b.toString()));
      req.on('end', () => {
        const msg = JSON.parse(body) as { alerts: Array<{ labels: Record<string, string> }> };
        const key = String(req.headers['idempotency-key']);
        for (const a of msg.alerts) {
          const name = a.labels.alertname;
          delivered.set(name, (delivered.get(name) ?? new Set()).add(key));
          posts.set(name, (posts.get(name) ?? 0) + 1);
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
    const rules = path.join(dir, 'replicas.rules.yml');
    fs.writeFileSync(
      rules,
      [
        'groups:',
        '  - name: replicas',
        '    interval: 1s',
        '    rules:',
        '      - alert: ReplicaProbeHigh',
        '        expr: replica_probe{series="hot"} > 1000',
        '        labels: { severity: P3 }',
        '',
      ].join('\n'),
    );
    stack = await startStack({
      services: ['collector', 'tracing', 'billing', 'notifier', 'anomaly'],
      replicas: { collector: 2, tracing: 2, billing: 2, notifier: 2 },
      env: {
        notifier: { NOTIFIER_CONFIG: notifierConfig },
        anomaly: { ANOMALY_RULE_FILES: rules, ANOMALY_EVALUATION_INTERVAL_MS: '1000' },
      },
    });
  }, 240_000);

  afterAll(async () => {
    hook.close();
    await stack?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const live = (svc: ServiceName): number[] =>
    Array.from({ length: stack.replicas(svc) }, (_, i) => i).filter((i) => !dead.has(`${svc}#${i}`));

  /**
   * Sends to replica `prefer` (of those alive), falling back to the others, retrying until one
   * takes it (2xx), as a client behind a load balancer does.
   */
  async function deliver(svc: ServiceName, prefer: number, route: string, init: RequestInit): Promise<void> {
    const deadline = Date.now() + 60_000;
    let last = '';
    for (let attempt = 0; ; attempt++) {
      const replicas = live(svc);
      const replica = replicas[(prefer + attempt) % replicas.length];
      try {
        const res = await fetch(`${stack.url(svc, replica)}${route}`, {
          ...init,
          headers: { ...authHeaders(), ...((init.headers as Record<string, string>) ?? {}) },
          signal: AbortSignal.timeout(10_000),
        });
        if (res.ok) return;
        last = `HTTP ${res.status} ${(await res.text()).slice(0, 200)}`;
        if (res.status < 500 && res.status !== 429) throw new Error(`${svc} ${route} refused: ${last}`);
      } catch (err) {
        if (String(err).includes('refused:')) throw err;
        last = String(err);
      }
      if (Date.now() > deadline) throw new Error(`${svc} ${route} never took it: ${last}\n${stack.logs()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function sendRound(): Promise<void> {
    const r = ++round;
    const now = Date.now();
    const events = Array.from({ length: REQUESTS_PER_ROUND }, (_, i) => {
      const base = {
        requestId: `replica-r${r}-q${i}`,
        tenant: `tenant-${i % 3}`,
        instance: 'vllm-replica-0',
        node: 'gpu-node-replica',
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
    // Four batches, alternating replicas: a request's two events may land on different replicas.
    const batches = [0, 1, 2, 3].map((k) => events.filter((_, j) => j % 4 === k));
    const work: Array<Promise<void>> = batches.map((batch, k) =>
      deliver('tracing', k, '/api/v1/requests/events', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events: batch }),
      }),
    );

    lastSampleMs = Math.max(lastSampleMs + 1, now);
    for (let p = 0; p < PUSHES_PER_ROUND; p++) {
      const text =
        Array.from({ length: SERIES }, (_, s) => `replica_probe{series="p${p}s${s}"} ${r} ${lastSampleMs}`).join('\n') +
        '\n';
      work.push(
        deliver('collector', p, '/api/v1/import/prometheus', {
          method: 'POST',
          headers: { 'content-type': 'text/plain', 'idempotency-key': `replica-r${r}-p${p}` },
          body: text,
        }),
      );
    }

    const alerts = Array.from({ length: ALERTS_PER_ROUND }, (_, a) => `ReplicaRound${r}n${a}`);
    alerts.forEach((alertname, a) =>
      work.push(
        deliver('notifier', a, '/api/v2/alerts', {
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
        }),
      ),
    );
    await Promise.all(work);
    sent.requests += REQUESTS_PER_ROUND;
    sent.samples += PUSHES_PER_ROUND * SERIES;
    sent.pushes += PUSHES_PER_ROUND;
    sent.alerts.push(...alerts);
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

  async function metrics(svc: ServiceName, replica: number): Promise<string> {
    const res = await fetch(`${stack.url(svc, replica)}/metrics`, { headers: authHeaders() });
    if (!res.ok) throw new Error(`${svc}#${replica} /metrics: HTTP ${res.status}`);
    return res.text();
  }

  async function projections() {
    const [tracing] = await sql<{ n: number }>('SELECT count(*)::int AS n FROM tracing.requests');
    const [billing] = await sql<{ n: number }>('SELECT count(*)::int AS n FROM billing.request_intervals');
    const q = encodeURIComponent('sum(count_over_time(replica_probe{series!="hot"}[1h]))');
    const res = await fetch(`${stack.url('collector', live('collector')[0])}/api/v1/query?query=${q}`, {
      headers: authHeaders(),
    });
    const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
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

  async function caughtUp(what: string): Promise<void> {
    let last: unknown;
    await eventually(
      async () => {
        last = await projections();
        return JSON.stringify(last) === JSON.stringify(expected()) ? true : undefined;
      },
      // Messages a killed replica held come back only after the 30 s ack wait. Alone the SIGKILL
      // test catches up in well under a minute; in one full run (load ≈ 4) it needed over 90 s.
      150_000,
      `${what}: caught up (want ${JSON.stringify(expected())})`,
    ).catch(async (err: Error) => {
      const why = await diagnose().catch((e: unknown) => `diagnosis failed: ${String(e)}`);
      throw new Error(`${err.message}; last seen ${JSON.stringify(last)}\n${why}\n${stack.logs()}`);
    });
  }

  /**
   * Where requests that tracing assembled but billing never recorded stopped: still in tracing's
   * outbox, in the requests stream, or held by billing's durable (pending, unacknowledged).
   */
  async function diagnose(): Promise<string> {
    const missing = await sql<{ request_id: string }>(
      `SELECT request_id FROM tracing.requests t
        WHERE NOT EXISTS (SELECT 1 FROM billing.request_intervals b WHERE b.request_id = t.request_id)
        ORDER BY request_id`,
    );
    const [outbox] = await sql<{ n: number }>('SELECT count(*)::int AS n FROM tracing.outbox');
    const bus = await EventBus.connect({ url: stack.natsUrl, name: 'e2e-replicas-why', namespace: stack.namespace });
    try {
      const stream = bus.streamName('requests');
      const info = await bus.jsm.streams.info(stream);
      const want = new Set(missing.map((m) => m.request_id));
      const inStream: Array<{ id: string; seq: number }> = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && want.size > 0; seq++) {
        const msg = await bus.jsm.streams.getMessage(stream, { seq }).catch(() => null);
        if (!msg || !msg.subject.includes('.completed.')) continue;
        // Either form of request.completed: one record, or a batch of them.
        const data = (
          JSON.parse(Buffer.from(msg.data).toString('utf8')) as {
            data: { requestId?: string; records?: Array<{ requestId: string }> };
          }
        ).data;
        for (const id of data.records?.map((r) => r.requestId) ?? [data.requestId ?? ''])
          if (want.has(id)) inStream.push({ id, seq });
      }
      const consumers: Record<string, unknown> = {};
      for await (const c of bus.jsm.consumers.list(stream))
        consumers[c.name] = {
          delivered: c.delivered.stream_seq,
          ackFloor: c.ack_floor.stream_seq,
          ackPending: c.num_ack_pending,
          redelivered: c.num_redelivered,
          pending: c.num_pending,
          waiting: c.num_waiting,
        };
      // Where tracing's own requests stand: open, held past their deadline, assembled (per replica),
      // and the open rows' due times against the consumer's committed progress.
      const tracingState: Record<string, Record<string, number>> = {};
      for (const i of live('tracing')) {
        const text = await metrics('tracing', i).catch(() => '');
        tracingState[`tracing#${i}`] = Object.fromEntries(
          [
            'arcwatch_tracing_open_requests',
            'arcwatch_tracing_deadlines_held_total',
            'arcwatch_tracing_requests_assembled_total',
            'arcwatch_tracing_events_ingested_total',
          ].map((name) => [name, metricSum(text, name)]),
        );
      }
      const [open] = await sql<{ n: number; min_due: string | null; max_due: string | null }>(
        'SELECT count(*)::int AS n, min(due_at)::text AS min_due, max(due_at)::text AS max_due FROM tracing.open_requests',
      );
      const progress = await sql<Record<string, unknown>>('SELECT * FROM tracing.consumer_progress');
      return `tracing: ${JSON.stringify(tracingState)}; open rows ${JSON.stringify(open)}; progress ${JSON.stringify(progress)}; now ${new Date().toISOString()}
not billed: ${missing.length} (${missing
        .slice(0, 5)
        .map((m) => m.request_id)
        .join(', ')}…); tracing outbox rows: ${outbox.n}; of those in ${stream}: ${JSON.stringify(
        inStream.slice(0, 5),
      )} (${inStream.length}), last seq ${info.state.last_seq}; consumers: ${JSON.stringify(consumers)}`;
    } finally {
      await bus.drain();
    }
  }

  /** Per live replica: the counter that shows its share of the work. */
  async function shares(): Promise<Record<string, number>> {
    const counter: Record<(typeof SCALED)[number], [string, string?]> = {
      collector: ['arcwatch_collector_writer_batches_total', 'result="stored"'],
      tracing: ['arcwatch_tracing_requests_assembled_total'],
      billing: ['arcwatch_billing_requests_recorded_total'],
      notifier: ['arcwatch_notifier_notifications_total', 'outcome="delivered"'],
    };
    const out: Record<string, number> = {};
    for (const svc of SCALED)
      for (const i of live(svc)) out[`${svc}#${i}`] = metricSum(await metrics(svc, i), ...counter[svc]);
    return out;
  }

  let leader = -1;

  it('both replicas of each take their share; every projection holds exactly what was sent', async () => {
    for (let i = 0; i < 3; i++) await sendRound();
    // The one anomaly process evaluates the rule set; its alert reaches a notifier replica once.
    await deliver('collector', 0, '/api/v1/import/prometheus', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: `replica_probe{series="hot"} 5000 ${++lastSampleMs}\n`,
    });
    await caughtUp('two replicas each');
    await eventually(() => (delivered.get('ReplicaProbeHigh')?.size === 1 ? true : undefined), 60_000, 'rule alert');

    const per = async (svc: ServiceName, name: string) => {
      const m = await Promise.all([0, 1].map(async (i) => metricSum(await metrics(svc, i), name)));
      return m;
    };
    const stored = await Promise.all(
      [0, 1].map(async (i) =>
        metricSum(await metrics('collector', i), 'arcwatch_collector_writer_batches_total', 'result="stored"'),
      ),
    );
    const redelivered = await Promise.all(
      [0, 1].map(async (i) =>
        metricSum(await metrics('collector', i), 'arcwatch_collector_writer_batches_total', 'result="duplicate"'),
      ),
    );
    const ingested = await per('tracing', 'arcwatch_tracing_events_ingested_total');
    const assembled = await per('tracing', 'arcwatch_tracing_requests_assembled_total');
    const recorded = await per('billing', 'arcwatch_billing_requests_recorded_total');
    const received = await per('notifier', 'arcwatch_notifier_alerts_received_total');
    const notified = await Promise.all(
      [0, 1].map(async (i) =>
        metricSum(await metrics('notifier', i), 'arcwatch_notifier_notifications_total', 'outcome="delivered"'),
      ),
    );
    const report = { stored, redelivered, ingested, assembled, recorded, received, notified };
    // Every replica took a share of each shared durable consumer and of the HTTP intake…
    for (const [what, counts] of Object.entries({ stored, ingested, recorded, received }))
      expect([what, counts.every((n) => n > 0)]).toEqual([what, true]);
    // …and the shares add up to what was sent: nothing done twice by two replicas.
    const sum = (xs: number[]) => xs[0] + xs[1];
    // (The collectors also store the anomaly service's ALERTS series: batches beyond the pushes.)
    expect(sum(stored)).toBeGreaterThanOrEqual(sent.pushes + 1);
    expect({
      redelivered: sum(redelivered),
      ingested: sum(ingested),
      assembled: sum(assembled),
      recorded: sum(recorded),
    }).toEqual({
      redelivered: 0,
      ingested: 2 * sent.requests,
      assembled: sent.requests,
      recorded: sent.requests,
    });
    // One worker holds the dispatch lease and sends every notification; the other stands by.
    expect([...notified].sort()).toEqual([0, sent.alerts.length + 1]);
    leader = notified.indexOf(sent.alerts.length + 1);
    expect(sent.alerts.every((a) => posts.get(a) === 1)).toBe(true);
    process.stdout.write(`replica shares: ${JSON.stringify(report)}\n`);
  }, 180_000);

  it('SIGKILL one replica of each mid-round: the survivors finish with exact counts', async () => {
    expect(leader).toBeGreaterThanOrEqual(0);
    const victims: Array<[ServiceName, number]> = [
      ['collector', 1],
      ['tracing', 1],
      ['billing', 1],
      // The notifier holding the dispatch lease: the other has to take over.
      ['notifier', leader],
    ];
    const first = sendRound();
    await new Promise((r) => setTimeout(r, 100));
    for (const [svc, i] of victims) {
      dead.add(`${svc}#${i}`);
      await stack.kill(svc, i);
    }
    await first;
    await sendRound();
    await caughtUp('after SIGKILL of one replica each');
    const survivor = 1 - leader;
    const m = await metrics('notifier', survivor);
    expect(metricSum(m, 'arcwatch_notifier_notifications_total', 'outcome="delivered"')).toBeGreaterThan(0);

    // Billing closes a window once the request records have moved past it (5 s windows, 2 s
    // lateness here): one more round, later, closes the windows of every round before it.
    await new Promise((r) => setTimeout(r, 8_000));
    await sendRound();
    await caughtUp('closing round');
    const closed = sent.requests - REQUESTS_PER_ROUND;
    let costed = -1;
    await eventually(
      async () => {
        const [r] = await sql<{ n: number; lines: number }>(
          `SELECT count(DISTINCT request_id)::int AS n FROM billing.allocation_lines
            WHERE request_id LIKE 'replica-r%' AND request_id NOT LIKE 'replica-r${round}-%'`,
        );
        costed = r.n;
        return r.n === closed ? true : undefined;
      },
      60_000,
      `every one of the ${closed} requests before the closing round costed`,
    ).catch((err: Error) => {
      throw new Error(`${err.message} (costed: ${costed})\n${stack.logs()}`);
    });
    const bus = await EventBus.connect({ url: stack.natsUrl, name: 'e2e-replicas', namespace: stack.namespace });
    try {
      const name = bus.streamName('cost');
      // Cost records and their outbox rows commit together; the relay publishes them after, so
      // the stream may still be catching up with the table here.
      let published = -1;
      const records = await eventually(
        async () => {
          const rows = await sql<{ event_id: string }>('SELECT event_id FROM billing.cost_records');
          published = (await bus.jsm.streams.info(name)).state.messages;
          return rows.length > 0 && published >= rows.length ? rows : undefined;
        },
        30_000,
        'every cost record published',
      ).catch((err: Error) => {
        throw new Error(`${err.message} (published: ${published})\n${stack.logs()}`);
      });
      const ids = (await readStream<{ id: string }>(bus, 'cost')).map((m) => m.body.id);
      expect(ids.length).toBeGreaterThan(0);
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(ids)).toEqual(new Set(records.map((r) => r.event_id)));
    } finally {
      await bus.drain();
    }
    // Each alert once (a resend after the crash would repeat its key, never add one).
    expect(sent.alerts.filter((a) => delivered.get(a)?.size !== 1)).toEqual([]);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await projections()).toEqual(expected());
    process.stdout.write(`after SIGKILL: ${JSON.stringify(await shares())}\n`);
  }, 360_000);
});
