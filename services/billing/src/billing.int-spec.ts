import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'pg';
import { EventBus } from '@arcwatch/messaging';
import {
  EVENT_TYPES,
  SUBJECTS,
  cloudEvent,
  REQUEST_COMPLETED_BATCH_V1,
  requestCompletedBatchId,
  requestCompletedId,
  type CostAllocatedV1,
  type CostReconciledV1,
  type RequestCompletedV1,
} from '@arcwatch/contracts';
import {
  REPO_ROOT,
  TestClock,
  authHeaders,
  createTestDatabase,
  eventually,
  testNamespace,
  type TestDatabase,
} from '@arcwatch/testing';
import { createBillingApp } from './app';
import { AllocationWorker } from './allocation/allocation.worker';
import { testConfig } from './testing/billing-test-kit';

/*
 * The billing service against the real PostgreSQL and NATS: request records in, cost events out.
 * The records are the three-tenant 8×H100 scenario of libs/cost
 * (h100-instance-shared-by-three-tenants.spec.ts, where every figure is worked out by hand) plus
 * one request of tenant zeta on an instance the inventory file does not list (discovered, priced
 * with the defaults), which moves the stream past the third window.
 */
const T0 = Date.parse('2026-01-05T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function record(
  id: string,
  tenant: string,
  instance: string,
  scheduled: number,
  end: number,
  received = scheduled,
): RequestCompletedV1 {
  return {
    requestId: id,
    status: 'completed',
    startedAt: at(received),
    endedAt: at(end),
    tenant,
    team: `${tenant}-team`,
    project: 'chat',
    apiKeyHash: null,
    model: 'llama-3.1-70b',
    modelVersion: 'v1',
    instance,
    node: 'gpu-node-1',
    gpuUuids: [],
    promptTokens: 100,
    completionTokens: 50,
    cachedTokens: null,
    finishReason: 'stop',
    error: null,
    queueMs: null,
    prefillMs: null,
    ttftMs: null,
    tpotMs: null,
    e2eMs: null,
    missingPhases: [],
    timeline: [
      { kind: 'received', time: at(received) },
      { kind: 'scheduled', time: at(scheduled) },
      { kind: 'completed', time: at(end) },
    ],
  };
}

const RECORDS = [
  record('r1', 'acme', 'vllm-h100-0', 0, 30),
  record('r2', 'globex', 'vllm-h100-0', 10, 40),
  record('r3', 'initech', 'vllm-h100-0', 20, 50),
  record('r4', 'acme', 'vllm-h100-0', 60, 90, 55),
  record('r5', 'unknown', 'vllm-h100-0', 70, 95),
  record('r6', 'globex', 'vllm-h100-0', 100, 130),
  record('z1', 'zeta', 'vllm-other', 170, 185),
];

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
        resourceId: i-vllm-h100-0
        price: { provider: aws, region: us-east-1, pricingKind: on-demand }
`;

interface Stored {
  subject: string;
  raw: string;
}

async function readStream(bus: EventBus, prefix: string): Promise<Stored[]> {
  const name = bus.streamName('cost');
  const info = await bus.jsm.streams.info(name);
  const out: Stored[] = [];
  if (info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await bus.jsm.streams.getMessage(name, { seq }).catch(() => null);
    const subject = m ? bus.naming.fromWire(m.subject) : '';
    if (m && subject.startsWith(prefix)) out.push({ subject, raw: Buffer.from(m.data).toString('utf8') });
  }
  return out;
}

interface Run {
  db: TestDatabase;
  app: NestFastifyApplication;
  bus: EventBus;
  pool: Pool;
  ns: string;
}

describe('billing service (NATS + Postgres)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-billing-'));
  const inventoryFile = path.join(dir, 'inventory.yaml');
  writeFileSync(inventoryFile, INVENTORY);
  const budgetsFile = path.join(dir, 'budgets.yaml');
  writeFileSync(
    budgetsFile,
    'budgets:\n  - { id: acme-daily, tenant: acme, period: day, money: "1.00", currency: USD }\n  - { id: globex-tokens, tenant: globex, period: day, tokens: 100 }\n',
  );
  const runs: Run[] = [];

  async function start(): Promise<Run> {
    const db = await createTestDatabase();
    const ns = testNamespace();
    const config = testConfig(db.url, ns, {
      BILLING_INVENTORY_FILE: inventoryFile,
      BILLING_BUDGETS_FILE: budgetsFile,
      BILLING_PRICES_FILE: path.join(REPO_ROOT, 'infra/billing/prices.yaml'),
      BILLING_LATENESS_SECONDS: '0',
      BILLING_DEFAULT_POOL_OWNER: 'ops',
    });
    const app = await createBillingApp({ config, disableWorkerTimer: true, clock: new TestClock(T0 + 86_400_000) });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const bus = await EventBus.connect({ name: 'billing-test', namespace: ns });
    const run = { db, app, bus, pool: new Pool({ connectionString: db.url }), ns };
    runs.push(run);
    return run;
  }

  async function feed(run: Run): Promise<void> {
    for (const r of RECORDS) {
      await run.bus.publish(
        SUBJECTS.requestCompleted(r.tenant),
        cloudEvent({
          type: EVENT_TYPES.requestCompleted,
          source: 'test',
          id: requestCompletedId(r.requestId),
          time: r.endedAt,
          data: r,
        }),
      );
    }
    await eventually(
      async () => {
        const { rows } = await run.pool.query('SELECT count(*)::int AS n FROM billing.request_intervals');
        return rows[0].n === RECORDS.length ? true : undefined;
      },
      15_000,
      'request records stored',
    );
    await run.app.get(AllocationWorker).runOnce();
  }

  const http = (run: Run, method: 'GET' | 'POST' | 'PUT', url: string, payload?: string, contentType?: string) =>
    run.app
      .getHttpAdapter()
      .getInstance()
      .inject({
        method,
        url,
        ...(payload === undefined ? {} : { payload }),
        headers: { ...authHeaders(), ...(contentType ? { 'content-type': contentType } : {}) },
      });

  let first: Run;

  beforeAll(async () => {
    first = await start();
    await feed(first);
  });

  afterAll(async () => {
    for (const r of runs) {
      await r.app.close();
      for (const key of ['requests', 'cost', 'deadLetter'] as const)
        await r.bus.jsm.streams.delete(r.bus.streamName(key)).catch(() => false);
      await r.bus.drain();
      await r.pool.end();
      await r.db.drop();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('requests in, cost.allocated out: the hand-computed amounts per window and tenant', async () => {
    const events = (await readStream(first.bus, 'aw.cost.v1.allocated.')).map((m) => ({
      subject: m.subject,
      e: JSON.parse(m.raw) as { id: string; type: string; time: string; data: CostAllocatedV1 },
    }));
    const mine = events
      .filter((x) => ['acme', 'globex', 'initech', 'unattributed', 'platform'].includes(x.e.data.tenant))
      .map((x) => [x.e.data.periodStart, x.e.data.tenant, x.e.data.kind, x.e.data.amount])
      .sort();
    expect(mine).toEqual(
      [
        [at(0), 'acme', 'requests', '0.500704'],
        [at(0), 'globex', 'requests', '0.364148'],
        [at(0), 'initech', 'requests', '0.500703'],
        [at(0), 'platform', 'idle', '0.273111'],
        [at(60), 'acme', 'requests', '0.546222'],
        [at(60), 'unattributed', 'unattributed', '0.409667'],
        [at(60), 'globex', 'requests', '0.546222'],
        [at(60), 'platform', 'idle', '0.136556'],
        [at(120), 'globex', 'requests', '0.273111'],
        [at(120), 'platform', 'idle', '1.365556'],
      ].sort(),
    );
    const acme = events.find((x) => x.e.data.tenant === 'acme' && x.e.data.periodStart === at(0));
    expect(acme?.subject).toBe('aw.cost.v1.allocated.acme');
    expect(acme?.e.type).toBe('io.arcwatch.cost.allocated.v1');
    expect(acme?.e.time).toBe(at(60));
    expect(acme?.e.data).toMatchObject({
      currency: 'USD',
      requestCount: 1,
      inputTokens: 100,
      outputTokens: 50,
      method: 'time-share',
      status: 'estimate',
      gpuSeconds: 146.667,
    });
    // r1's GPU time in w0: 10 s alone + 10 s of two + 10 s of three, on 8 GPUs = 80 + 40 + 26.667.
    // The discovered instance holds its GPUs from the window of its first request (120 s), so its
    // first window is that placement's first minute: floor(98.32e6 · 60 / 3600) = 1_638_666;
    // zeta's 10 s = 1/6 → 273_111 exactly, the other 50 s idle for ops → 1_365_555.
    const zeta = events
      .filter((x) => ['zeta', 'ops'].includes(x.e.data.tenant))
      .map((x) => [x.e.data.tenant, x.e.data.amount]);
    expect(zeta.sort()).toEqual([
      ['ops', '1.365555'],
      ['zeta', '0.273111'],
    ]);
  });

  it('a replay on a fresh database and stream publishes byte-identical events', async () => {
    const second = await start();
    await feed(second);
    const a = (await readStream(first.bus, 'aw.cost.v1.allocated.')).map((m) => `${m.subject} ${m.raw}`).sort();
    const b = (await readStream(second.bus, 'aw.cost.v1.allocated.')).map((m) => `${m.subject} ${m.raw}`).sort();
    expect(a.length).toBeGreaterThan(10);
    expect(b).toEqual(a);
    // And running the worker again publishes nothing new.
    await second.app.get(AllocationWorker).runOnce();
    expect((await readStream(second.bus, 'aw.cost.v1.allocated.')).length).toBe(a.length);
  });

  it('imports a FOCUS invoice streamed, reports bad rows; the same file again changes nothing', async () => {
    const csv = [
      'BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId',
      `2.000,USD,${at(0)},${at(180)},Usage,i-vllm-h100-0`,
      `0.458,USD,${at(0)},${at(180)},Usage,i-vllm-h100-0`,
      `oops,USD,${at(0)},${at(180)},Usage,i-vllm-h100-0`,
      `1.00,USD,${at(0)},${at(180)},Usage,i-elsewhere`,
    ].join('\n');
    const res = await http(first, 'POST', '/api/v1/invoices', csv, 'text/csv');
    expect(res.statusCode).toBe(201);
    const body = res.json() as {
      importId: string;
      new: boolean;
      rows: number;
      lines: number;
      newLines: number;
      rejects: Array<{ lineNo: number; reason: string }>;
    };
    expect([body.new, body.rows, body.lines, body.newLines]).toEqual([true, 4, 3, 3]);
    expect(body.rejects).toEqual([
      { lineNo: 4, reason: 'BilledCost: not a decimal amount with at most 12 decimals: "oops"' },
    ]);
    const count = async () =>
      (
        await first.pool.query(
          'SELECT (SELECT count(*) FROM billing.invoice_lines)::int AS l, (SELECT count(*) FROM billing.invoice_imports)::int AS i, (SELECT count(*) FROM billing.invoice_rejects)::int AS r',
        )
      ).rows[0];
    const before = await count();
    const again = await http(first, 'POST', '/api/v1/invoices', csv, 'text/csv');
    expect(again.json()).toMatchObject({ importId: body.importId, new: false, newLines: 0 });
    expect(await count()).toEqual(before);
    const rejects = await http(first, 'GET', `/api/v1/invoices/${body.importId}/rejects`);
    expect(rejects.json().items.map((r: { lineNo: number }) => r.lineNo)).toEqual([4]);

    // Reconciliation: 2.458 billed over the 4.916 modelled for [0, 180 s) — exactly half, split by
    // largest remainder (see libs/cost/src/reconciliation.spec.ts for the figures).
    const rec = await http(first, 'POST', `/api/v1/invoices/${body.importId}/reconciliation`);
    expect(rec.statusCode).toBe(201);
    const summary = rec.json();
    expect(summary.groups).toEqual([
      {
        resourceId: 'i-vllm-h100-0',
        periodStart: at(0),
        periodEnd: at(180),
        currency: 'USD',
        billed: '2.458',
        modelled: '4.916',
        reconciled: '2.458',
        scale: '0.500000',
        windows: 3,
      },
    ]);
    expect(summary.unmatchedInvoiceLines.map((u: { lineNo: number; reason: string }) => [u.lineNo, u.reason])).toEqual([
      [5, 'resource not in inventory'],
    ]);
    await first.app.get(AllocationWorker).runOnce();
    const finals = (await readStream(first.bus, 'aw.cost.v1.reconciled.')).map(
      (m) => JSON.parse(m.raw) as { data: CostReconciledV1 },
    );
    const micro = (s: string) => {
      const [whole, frac = ''] = s.split('.');
      return BigInt(whole as string) * 1_000_000n + BigInt(frac.padEnd(6, '0'));
    };
    expect(finals.reduce((s, f) => s + micro(f.data.amount), 0n)).toBe(2_458_000n);
    const acme0 = finals.find((f) => f.data.tenant === 'acme' && f.data.periodStart === at(0));
    expect(acme0?.data).toMatchObject({
      amount: '0.250352',
      estimateAmount: '0.500704',
      status: 'final',
      invoiceImportId: body.importId,
    });
    // Reconciling the same import again publishes nothing new.
    await http(first, 'POST', `/api/v1/invoices/${body.importId}/reconciliation`);
    await first.app.get(AllocationWorker).runOnce();
    expect(await readStream(first.bus, 'aw.cost.v1.reconciled.')).toHaveLength(finals.length);
  });

  it('reports: by team and day, one request and who it shared with, explain, idle, token cost, chargeback', async () => {
    const q = `from=${at(0)}&to=${at(180)}`;
    const byTeam = await http(first, 'GET', `/api/v1/reports/cost?${q}&by=team,day`);
    expect(byTeam.statusCode).toBe(200);
    const items = byTeam.json().items as Array<{ team: string; amount: string }>;
    expect(items.find((i) => i.team === 'acme-team')?.amount).toBe('1.046926');

    const csv = await http(first, 'GET', `/api/v1/reports/cost.csv?${q}&by=tenant`);
    // acme's GPU-seconds: r1 146.667 (see above) + r4 10 s alone and 20 s shared with r5 on 8 GPUs = 80 + 80.
    expect(csv.body.split('\n').slice(0, 2)).toEqual([
      'tenant,currency,amount,requests,gpu_seconds',
      'acme,USD,1.046926,2,306.667',
    ]);

    const r2 = (await http(first, 'GET', '/api/v1/reports/requests/r2')).json();
    expect(r2).toMatchObject({ requestId: 'r2', amount: '0.364148', method: 'time-share', currency: 'USD' });
    expect(r2.windows[0].sharedWith.map((s: { requestId: string }) => s.requestId)).toEqual(['r1', 'r3']);

    const ex = (await http(first, 'GET', `/api/v1/reports/explain?tenant=globex&${q}`)).json();
    expect(ex.amount).toBe('1.183481'); // 0.364148 + 0.546222 + 0.273111
    const inst = ex.instances[0];
    expect(inst.amount).toBe(ex.amount);
    const sum = inst.windows.reduce((s: bigint, w: { amount: string }) => s + BigInt(w.amount.replace('.', '')), 0n);
    expect(sum).toBe(1_183_481n);

    const idle = (await http(first, 'GET', `/api/v1/reports/idle?${q}`)).json();
    expect(idle.items.find((p: { pool: string }) => p.pool === 'h100')).toMatchObject({
      total: '4.916',
      idleKeptApart: '1.775223',
    });

    const tok = (await http(first, 'GET', `/api/v1/reports/token-cost?${q}`)).json();
    expect(tok.items[0]).toMatchObject({ model: 'llama-3.1-70b', modelVersion: 'v1' });

    const cb = await http(first, 'GET', `/api/v1/reports/chargeback.csv?${q}`);
    expect(cb.headers['content-type']).toMatch(/text\/csv/);
    expect(cb.body.split('\n')[0]).toContain(
      'AllocatedMethodId,AllocatedMethodDetails,AllocatedResourceId,AllocatedResourceName,AllocatedTags',
    );

    const prices = (await http(first, 'GET', '/api/v1/prices')).json();
    expect(prices.items.length).toBeGreaterThan(40);
    const bad = await http(first, 'PUT', '/api/v1/prices', 'prices:\n  - { gpuModel: H100 }\n', 'text/yaml');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^api:2:5: prices\[0\]/);
  });

  it('examples/billing-consumer (nats.js and the JSON Schemas only) prints the running bill, final figures replacing estimates', async () => {
    const stored = await readStream(first.bus, 'aw.cost.v1.');
    const all = stored.length;
    const bill = stored.filter(
      (m) => m.subject.startsWith('aw.cost.v1.allocated.') || m.subject.startsWith('aw.cost.v1.reconciled.'),
    ).length;
    const r = spawnSync(
      'node',
      [
        path.join(REPO_ROOT, 'examples/billing-consumer/consumer.mjs'),
        '--stream',
        first.bus.streamName('cost'),
        '--subject',
        first.bus.naming.toWire('aw.cost.v1.>'),
        '--count',
        String(all),
      ],
      { encoding: 'utf8', cwd: REPO_ROOT, timeout: 30_000 },
    );
    expect(r.stderr).toBe('');
    const out = r.stdout.trim().split('\n');
    expect(out.filter((l) => / (estimate|final) /.test(l))).toHaveLength(bill);
    const totals = Object.fromEntries(
      out
        .slice(out.indexOf('--- bill') + 1)
        .map((l) => l.trim().split(/\s+/))
        .map(([t, a]) => [t, a]),
    );
    // acme: w0 and w1 reconciled to half (0.250352 + 0.273111); globex: r2, r6, r6 halves
    // (0.182074 + 0.273111 + 0.136555); the third-window share of the discovered instance stays an estimate.
    expect(totals.acme).toBe('0.523463');
    expect(totals.globex).toBe('0.591740');
    expect(totals.zeta).toBe('0.273111');
  });

  it('budgets: exceeded once per period when the allocated spend or tokens go over, and a forecast', async () => {
    const events = (await readStream(first.bus, 'aw.cost.v1.budget.')).map((m) => ({
      subject: m.subject,
      e: JSON.parse(m.raw) as { type: string; data: Record<string, unknown> },
    }));
    const exceeded = events
      .filter((x) => x.e.type === 'io.arcwatch.cost.budget.exceeded.v1')
      .map((x) => [x.subject, x.e.data.budgetId, x.e.data.spent, x.e.data.exceededAt]);
    // acme: 0.500704 (w0) + 0.546222 (w1) = 1.046926 > 1.00 in the window starting at 60 s;
    // globex: r2 ended at 40 s with 100 + 50 tokens > 100; r6 adds 150 by 130 s.
    expect(exceeded.sort()).toEqual([
      ['aw.cost.v1.budget.exceeded.acme', 'acme-daily', '1.046926', at(60)],
      ['aw.cost.v1.budget.exceeded.globex', 'globex-tokens', '300', at(40)],
    ]);
    const acmeForecast = events.find(
      (x) => x.e.type === 'io.arcwatch.cost.budget.forecast.v1' && x.e.data.budgetId === 'acme-daily',
    );
    // As of 180 s: 1.046926 over 180 s of a 24 h day → × 480 = 502.52448 (linear); no whole day seen yet.
    expect(acmeForecast?.e.data).toMatchObject({
      asOf: at(180),
      spent: '1.046926',
      forecastLinear: '502.52448',
      seasonalBasis: 'linear',
      overLimit: true,
    });
    // A second pass decides nothing new.
    await first.app.get(AllocationWorker).runOnce();
    expect(await readStream(first.bus, 'aw.cost.v1.budget.')).toHaveLength(events.length);
  });

  it('a message that is not a request record is dead-lettered with its reason; the consumer goes on', async () => {
    await first.bus.publish(
      SUBJECTS.requestCompleted('mallory'),
      cloudEvent({ type: 'io.example.not-a-request.v1', source: 'test', id: 'bad-1', data: { hello: 1 } }),
    );
    const late = record('r9', 'acme', 'vllm-h100-0', 200, 230);
    await first.bus.publish(
      SUBJECTS.requestCompleted('acme'),
      cloudEvent({ type: EVENT_TYPES.requestCompleted, source: 'test', id: requestCompletedId('r9'), data: late }),
    );
    const dlq = first.bus.streamName('deadLetter');
    const dead = await eventually(
      async () => {
        const info = await first.bus.jsm.streams.info(dlq).catch(() => null);
        if (!info || info.state.messages === 0) return undefined;
        const m = await first.bus.jsm.streams.getMessage(dlq, { seq: info.state.first_seq });
        if (!m) return undefined;
        return { subject: first.bus.naming.fromWire(m.subject), body: m.json<{ data: { reason: string } }>() };
      },
      15_000,
      'dead letter',
    );
    expect(dead.subject).toBe('aw.dlq.aw.requests.v1.completed.mallory');
    expect(dead.body.data.reason).toMatch(/unexpected event type io.example.not-a-request.v1/);
    await eventually(
      async () => {
        const { rows } = await first.pool.query(
          `SELECT count(*)::int AS n FROM billing.request_intervals WHERE request_id = 'r9'`,
        );
        return rows[0].n === 1 ? true : undefined;
      },
      15_000,
      'the next record stored',
    );
  });

  it('reads the batch form of request records beside the single form; an invalid batch is dead-lettered whole', async () => {
    const batch = [record('b1', 'acme', 'vllm-h100-0', 240, 250), record('b2', 'acme', 'vllm-h100-0', 241, 252)];
    await first.bus.publish(
      SUBJECTS.requestCompleted('acme'),
      cloudEvent({
        type: REQUEST_COMPLETED_BATCH_V1,
        source: 'test',
        id: requestCompletedBatchId(batch),
        data: { records: batch },
      }),
    );
    const { requestId: _dropped, ...noId } = record('b3', 'acme', 'vllm-h100-0', 242, 253);
    await first.bus.publish(
      SUBJECTS.requestCompleted('acme'),
      cloudEvent({
        type: REQUEST_COMPLETED_BATCH_V1,
        source: 'test',
        id: 'bad-batch',
        data: { records: [record('b4', 'acme', 'vllm-h100-0', 243, 254), noId] },
      }),
    );
    await eventually(
      async () => {
        const { rows } = await first.pool.query<{ request_id: string }>(
          `SELECT request_id FROM billing.request_intervals WHERE request_id LIKE 'b%' ORDER BY request_id`,
        );
        return rows.length === 2 ? rows.map((r) => r.request_id) : undefined;
      },
      15_000,
      'the batch stored',
    ).then((ids) => expect(ids).toEqual(['b1', 'b2']));
    const dlq = first.bus.streamName('deadLetter');
    const reasons = await eventually(
      async () => {
        const info = await first.bus.jsm.streams.info(dlq);
        const out: string[] = [];
        for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
          const m = await first.bus.jsm.streams.getMessage(dlq, { seq });
          if (m) out.push(m.json<{ data: { reason: string } }>().data.reason);
        }
        return out.length === 2 ? out : undefined;
      },
      15_000,
      'the invalid batch dead-lettered',
    );
    expect(reasons[1]).toMatch(/invalid io.arcwatch.requests.completed-batch.v1 data: records.1.requestId/);
    // Nothing of the invalid batch was stored, not even its valid record.
    const { rows } = await first.pool.query(`SELECT 1 FROM billing.request_intervals WHERE request_id = 'b4'`);
    expect(rows).toEqual([]);
  });
});
