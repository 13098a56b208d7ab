/**
 * Money end to end, every service on the path as its own process: a gateway's request traffic
 * (lifecycle events, sent with the ingest token) is assembled by tracing, costed by billing
 * window by window and published as cost events; the provider's invoice (FOCUS CSV) for the
 * instance is imported and reconciles the estimates, and the reconciled cost events add up to
 * the invoice to the micro-dollar. A tenant's daily budget is set low enough that the traffic
 * goes over it: billing publishes that once and the notifier delivers it to the team's webhook.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { EventBus } from '@arcwatch/messaging';
import { REPO_ROOT, TEST_INGEST_TOKEN, TEST_NATS_URL, eventually, freePort } from '@arcwatch/testing';
import { startStack, type Stack } from './support/stack';

// The traffic ran 15 to 12 minutes ago, in three one-minute billing windows, plus one request at
// +6 min (placeTraffic says when near midnight).
let T0 = 0;
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const DAY_MS = 86_400_000;
/** From the first request to the last one's end. */
const TRAFFIC_MS = 7 * 60_000;

/**
 * Where the traffic starts: 15 minutes ago, but within today (UTC), since acme's budget is a day's
 * and the alert of a day that has ended starts resolved; and the day must not end while the
 * notification is on its way. So in the first minutes after midnight the traffic starts at
 * midnight and the test waits until it has passed, and in the last three minutes before it waits
 * for the next day. At most ten minutes, around midnight only; without it the test failed from
 * 00:00 to 00:15 UTC.
 */
async function placeTraffic(): Promise<number> {
  for (;;) {
    const now = Date.now();
    const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
    const t0 = Math.max(Math.floor((now - 15 * 60_000) / 60_000) * 60_000, dayStart);
    const waitMs = dayStart + DAY_MS - now < 3 * 60_000 ? dayStart + DAY_MS - now + 1_000 : t0 + TRAFFIC_MS - now;
    if (waitMs <= 0) return t0;
    process.stderr.write(
      `costs e2e: waiting ${Math.ceil(waitMs / 1000)} s so that the traffic lies within one UTC day\n`,
    );
    await new Promise((r) => setTimeout(r, waitMs));
  }
}
const INVOICE = '7.654321';

interface Stored<T> {
  subject: string;
  event: { id: string; data: T };
}

async function readStream<T>(bus: EventBus, prefix: string): Promise<Array<Stored<T>>> {
  const name = bus.streamName('cost');
  const info = await bus.jsm.streams.info(name);
  const out: Array<Stored<T>> = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    const m = await bus.jsm.streams.getMessage(name, { seq }).catch(() => null);
    const subject = m ? bus.naming.fromWire(m.subject) : '';
    if (m && subject.startsWith(prefix))
      out.push({ subject, event: JSON.parse(Buffer.from(m.data).toString('utf8')) as Stored<T>['event'] });
  }
  return out;
}

const micro = (s: string) => {
  const [whole, frac = ''] = s.split('.');
  return BigInt(whole) * 1_000_000n + BigInt(frac.padEnd(6, '0'));
};

describe('costs: requests → tracing → billing → cost events, invoice reconciliation, budgets', () => {
  let stack: Stack;
  let bus: EventBus;
  let dir: string;
  /** What the notifier's webhook receiver got. */
  const notified: Array<{ labels: Record<string, string>; annotations: Record<string, string> }> = [];
  const hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (b: Buffer) => (body += b.toString()));
    req.on('end', () => {
      notified.push(...(JSON.parse(body) as { alerts: typeof notified }).alerts);
      res.writeHead(200).end('{}');
    });
  });

  beforeAll(async () => {
    T0 = await placeTraffic();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-costs-'));
    const hookPort = await freePort();
    await new Promise<void>((resolve) => hook.listen(hookPort, '127.0.0.1', resolve));
    const routing = path.join(dir, 'notifier.yml');
    fs.writeFileSync(
      routing,
      [
        'route: { receiver: finance, group_by: [alertname, tenant], group_wait: 200ms, group_interval: 1s }',
        `receivers: [{ name: finance, webhook_configs: [{ url: 'http://127.0.0.1:${hookPort}/hook' }] }]`,
        '',
      ].join('\n'),
    );
    const inventory = path.join(dir, 'inventory.yaml');
    fs.writeFileSync(
      inventory,
      [
        'pools:',
        '  - { name: h100, owner: platform, idle: separate }',
        'instances:',
        '  - instance: vllm-h100-0',
        '    pool: h100',
        '    placements:',
        `      - { from: "${at(0)}", node: gpu-node-1, gpus: 8, gpuModel: H100, resourceId: i-vllm-h100-0,`,
        '          price: { provider: aws, region: us-east-1, pricingKind: on-demand } }',
        '',
      ].join('\n'),
    );
    const budgets = path.join(dir, 'budgets.yaml');
    fs.writeFileSync(
      budgets,
      'budgets:\n  - { id: acme-daily, tenant: acme, period: day, money: "0.50", currency: USD }\n',
    );
    stack = await startStack({
      services: ['tracing', 'billing', 'notifier'],
      env: {
        billing: {
          BILLING_INVENTORY_FILE: inventory,
          BILLING_BUDGETS_FILE: budgets,
          BILLING_PRICES_FILE: path.join(REPO_ROOT, 'infra/billing/prices.yaml'),
          BILLING_WINDOW_SECONDS: '60',
          BILLING_LATENESS_SECONDS: '0',
        },
        notifier: { NOTIFIER_CONFIG: routing },
      },
    });
    bus = await EventBus.connect({ url: TEST_NATS_URL, name: 'e2e-costs', namespace: stack.namespace });
  }, 780_000); // 3 minutes to start the stack, and up to 10 of waiting around midnight

  afterAll(async () => {
    await bus?.drain();
    hook.close();
    await stack?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('costs every window of the traffic, reconciles it to the invoice, and tells that acme went over budget', async () => {
    // Nine requests over three minutes, three tenants, then one at +6 min that moves billing past them.
    const requests: Array<[string, string, number, number]> = [
      ['c1', 'acme', 0, 30],
      ['c2', 'globex', 10, 40],
      ['c3', 'initech', 20, 50],
      ['c4', 'acme', 60, 90],
      ['c5', 'globex', 70, 95],
      ['c6', 'acme', 100, 130],
      ['c7', 'initech', 125, 170],
      ['c8', 'globex', 140, 175],
      ['c9', 'acme', 150, 178],
      ['c10', 'globex', 360, 365],
    ];
    const events = requests.flatMap(([id, tenant, start, end]) => {
      const base = { requestId: id, tenant, instance: 'vllm-h100-0', node: 'gpu-node-1', model: 'llama-3.1-70b' };
      return [
        { ...base, kind: 'received', time: at(start) },
        { ...base, kind: 'scheduled', time: at(start) },
        { ...base, kind: 'first_token', time: at(start + 1) },
        { ...base, kind: 'completed', time: at(end), promptTokens: 100, completionTokens: 50 },
      ];
    });
    const res = await stack.fetch('tracing', '/api/v1/requests/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_INGEST_TOKEN}` },
      body: JSON.stringify({ events }),
    });
    expect(res.status).toBeLessThan(300);

    // Estimates: the three windows of the traffic, every tenant that ran in each.
    const allocated = await eventually(
      async () => {
        const got = (
          await readStream<{ periodStart: string; tenant: string; kind: string; amount: string }>(
            bus,
            'aw.cost.v1.allocated.',
          )
        ).filter((e) => Date.parse(e.event.data.periodStart) < T0 + 180_000);
        const windows = new Set(got.map((e) => e.event.data.periodStart));
        return windows.size === 3 ? got : undefined;
      },
      90_000,
      `cost.allocated for the three windows\n${stack.logs()}`,
    );
    const tenantsByWindow = (w: number) =>
      allocated
        .filter((e) => e.event.data.periodStart === at(w) && e.event.data.kind === 'requests')
        .map((e) => e.event.data.tenant)
        .sort();
    expect([tenantsByWindow(0), tenantsByWindow(60), tenantsByWindow(120)]).toEqual([
      ['acme', 'globex', 'initech'],
      ['acme', 'globex'],
      ['acme', 'globex', 'initech'],
    ]);
    expect(new Set(allocated.map((e) => e.event.id)).size).toBe(allocated.length);
    const modelled = allocated.reduce((s, e) => s + micro(e.event.data.amount), 0n);

    // The provider's bill for those three minutes.
    const csv = [
      'BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId',
      `${INVOICE},USD,${at(0)},${at(180)},Usage,i-vllm-h100-0`,
    ].join('\n');
    const imported = await stack.fetch('billing', '/api/v1/invoices', {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: csv,
    });
    expect(imported.status).toBe(201);
    const { importId } = (await imported.json()) as { importId: string };
    const rec = await stack.post<{
      groups: Array<{ resourceId: string; billed: string; modelled: string; reconciled: string; windows: number }>;
    }>('billing', `/api/v1/invoices/${importId}/reconciliation`, {});
    expect(rec.status).toBe(201);
    expect(rec.body.groups).toEqual([
      expect.objectContaining({ resourceId: 'i-vllm-h100-0', billed: INVOICE, reconciled: INVOICE, windows: 3 }),
    ]);
    expect(micro(rec.body.groups[0].modelled)).toBe(modelled);

    const reconciled = await eventually(
      async () => {
        const got = await readStream<{ amount: string; status: string }>(bus, 'aw.cost.v1.reconciled.');
        return got.length >= allocated.length ? got : undefined;
      },
      60_000,
      'cost.reconciled for every estimate',
    );
    expect(reconciled.every((e) => e.event.data.status === 'final')).toBe(true);
    expect(reconciled.reduce((s, e) => s + micro(e.event.data.amount), 0n)).toBe(micro(INVOICE));

    // acme's requests cost more than its 0.50 USD day: one budget.exceeded event, for acme only.
    const exceeded = await eventually(
      async () => {
        const got = await readStream<{ budgetId: string; tenant: string; limit: string; spent: string }>(
          bus,
          'aw.cost.v1.budget.exceeded.',
        );
        return got.length > 0 ? got : undefined;
      },
      60_000,
      'budget.exceeded for acme',
    );
    expect(exceeded.map((e) => [e.subject, e.event.data.budgetId, micro(e.event.data.limit)])).toEqual([
      ['aw.cost.v1.budget.exceeded.acme', 'acme-daily', 500_000n],
    ]);
    expect(micro(exceeded[0].event.data.spent)).toBeGreaterThan(micro('0.50'));
    const notice = await eventually(
      () => notified.find((a) => a.labels.alertname === 'BudgetExceeded'),
      30_000,
      `the BudgetExceeded notification\n${stack.logs()}`,
    );
    expect(notice.labels).toMatchObject({ tenant: 'acme', budget: 'acme-daily', severity: 'P2', period: 'day' });
    expect(notice.annotations.summary).toContain(
      `acme is over its day budget acme-daily: ${exceeded[0].event.data.spent}`,
    );
    expect(notified.filter((a) => a.labels.alertname === 'BudgetExceeded')).toHaveLength(1);
  }, 240_000);
});
