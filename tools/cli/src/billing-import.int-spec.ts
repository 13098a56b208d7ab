import path from 'node:path';
import {
  TEST_ADMIN_TOKEN,
  TEST_AUTH_ENV,
  FIXTURES_DIR,
  REPO_ROOT,
  createTestDatabase,
  freePort,
  getJson,
  startProcess,
  testNamespace,
  type RunningProcess,
  type TestDatabase,
} from '@arcwatch/testing';
import { main } from './main';

/**
 * `arcwatch billing import` against the billing service running as its own process (the way
 * `npm start` runs it), on a test database and NATS namespace: the provider export goes in whole,
 * a specification example with a bad row comes back with that row's line and reason, and the
 * same file again is recognised as already imported.
 */
describe('arcwatch billing import', () => {
  let db: TestDatabase;
  let svc: RunningProcess;
  let url: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    svc = startProcess('billing', 'services/billing/src/main.ts', [], {
      DATABASE_URL: db.url,
      NATS_NAMESPACE: testNamespace(),
      BILLING_PORT: String(port),
      BILLING_HOST: '127.0.0.1',
      BILLING_PRICES_FILE: path.join(REPO_ROOT, 'infra/billing/prices.yaml'),
      LOG_LEVEL: 'warn',
      ...TEST_AUTH_ENV,
    });
    // What the CLI sends as its Bearer token.
    process.env.ARCWATCH_TOKEN = TEST_ADMIN_TOKEN;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await getJson(`${url}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`billing did not start:\n${svc.log()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 90_000);

  afterAll(async () => {
    await svc?.stop();
    await db?.drop();
  });

  async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['billing', 'import', ...args, '--url', url], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    return { code, out, err };
  }

  it('imports the 1000-row provider export with a progress bar and a summary', async () => {
    const file = path.join(FIXTURES_DIR, 'billing/focus-sample-data/FOCUS-1.0.focus_sample.csv');
    const r = await run([file]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out[0] as string);
    expect(summary).toMatchObject({ new: true, rows: 1000, lines: 1000, newLines: 1000, rejects: 0 });
    expect(r.err.at(-1)).toMatch(/\[#{30}\] 100% 755423\/755423 bytes/);
    const again = await run([file]);
    expect(JSON.parse(again.out[0] as string)).toMatchObject({ importId: summary.importId, new: false, newLines: 0 });
  });

  it('prints each rejected row with its line and reason, and reconciles on request', async () => {
    const file = path.join(
      FIXTURES_DIR,
      'billing/focus-spec-examples/commitment_discount_scenarios/commitment_discount_purchase_scenario_3.csv',
    );
    // The specification's examples have no BillingCurrency column.
    const r = await run([file, '--currency', 'USD', '--reconcile']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out[0] as string)).toMatchObject({ rows: 4, lines: 3, rejects: 1 });
    expect(JSON.parse(r.out[1] as string)).toEqual({
      reject: { file, lineNo: 5, reason: 'ChargePeriodEnd: not a valid date/time: "2023-02-01T30:00:00Z"' },
    });
    const rec = JSON.parse(r.out[2] as string).reconciliation;
    expect(rec.groups).toEqual([]);
    expect(rec.unmatchedInvoiceLines.map((u: { reason: string }) => u.reason)).toEqual([
      'resource not in inventory',
      'resource not in inventory',
      'resource not in inventory',
    ]);
  });

  it('says so when the service is not there', async () => {
    const err: string[] = [];
    const code = await main(
      [
        'billing',
        'import',
        path.join(FIXTURES_DIR, 'billing/focus-sample-data/FOCUS-1.0.focus_sample.csv'),
        '--url',
        'http://127.0.0.1:1',
      ],
      { out: () => undefined, err: (l) => err.push(l) },
    );
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/http:\/\/127.0.0.1:1\/api\/v1\/invoices: fetch failed/);
  });
});
