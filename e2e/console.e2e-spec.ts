/**
 * The console in headless Chromium (Debian's chromium through playwright-core) against the real
 * services as their own processes: the simulated fleet → collector and tracing, billing for
 * costs, anomaly's rules on the live metrics, the notifier for alerts, the console serving its built app. Every page shows real data;
 * a hot GPU drills down to its requests and their cost; a scoped token stays in its tenant.
 * Screenshots go to .arcwatch/screenshots. Set-up on a fresh machine: `apt-get install -y chromium`
 * (infra/peers.sh lists it).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  createTestDatabase,
  eventually,
  testNamespace,
  TEST_AUTH_ENV,
  TEST_INGEST_TOKEN,
  uniqueToken,
  type TestDatabase,
} from '@arcwatch/testing';
import { REPO_ROOT, freePort, freePortRange, startProcess, type RunningProcess } from '@arcwatch/testing';

const NODES = 2;
const GPUS = 4;
const ADMIN = `aw_e2e-admin-${uniqueToken()}`;
const SHOTS = path.join(REPO_ROOT, '.arcwatch', 'screenshots');
const CHROMIUM =
  process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));

interface Req {
  requestId: string;
  tenant: string;
  node: string | null;
}

describe('console in a browser against the running stack', () => {
  let db: TestDatabase;
  let dir: string;
  let browser: Browser;
  let page: Page;
  const procs: RunningProcess[] = [];
  let consoleUrl = '';
  let notifierUrl = '';
  let anomalyUrl = '';
  let rules = '';
  // The notifier's receiver: a local webhook that accepts every notification.
  const hook = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end('{}')));

  const api = async <T>(p: string, init: RequestInit = {}, token = ADMIN): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${consoleUrl}${p}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const shot = (name: string, p: Page = page, fullPage = true) =>
    p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
  const ready = (p: RunningProcess, url: string) =>
    eventually(
      async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined),
      90_000,
      `${p.name} ready\n${p.log()}`,
    );

  beforeAll(async () => {
    if (!CHROMIUM) throw new Error('no chromium: run `apt-get install -y chromium` (infra/peers.sh)');
    fs.mkdirSync(SHOTS, { recursive: true });
    execFileSync(
      path.join(REPO_ROOT, 'node_modules/.bin/vite'),
      ['build', '--config', 'services/console/web/vite.config.ts'],
      { cwd: REPO_ROOT, stdio: 'pipe', env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' } },
    );
    db = await createTestDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-console-e2e-'));
    const namespace = testNamespace();
    const [collectorPort, tracingPort, billingPort, notifierPort, anomalyPort, consolePort, fleetPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePortRange(NODES * 2),
    ];
    const url = (port: number) => `http://127.0.0.1:${port}`;
    consoleUrl = url(consolePort);
    notifierUrl = url(notifierPort);
    anomalyUrl = url(anomalyPort);
    // Every service checks tokens against the one store: the console's admin token works everywhere,
    // and the services ensure the test admin and ingest tokens at start.
    const common = {
      DATABASE_URL: db.url,
      NATS_URL: 'nats://127.0.0.1:4222',
      NATS_NAMESPACE: namespace,
      ...TEST_AUTH_ENV,
    };
    const hookPort = await freePort();
    await new Promise<void>((resolve) => hook.listen(hookPort, '127.0.0.1', resolve));
    // Acknowledgement belongs to escalation: an alert is acknowledgeable once a policy escalates it.
    const notifierConfig = path.join(dir, 'notifier.yml');
    fs.writeFileSync(
      notifierConfig,
      [
        'route: { receiver: team, group_by: [alertname], group_wait: 100ms, group_interval: 1s, repeat_interval: 1h }',
        `receivers: [{ name: team, webhook_configs: [{ url: 'http://127.0.0.1:${hookPort}/hook' }] }]`,
        'arcwatch:',
        '  escalation_policies:',
        `    - { name: tenants, matchers: ['tenant=~".+"'], ack_timeout: 1h, levels: [{ delay: 0s, targets: [team] }] }`,
        '',
      ].join('\n'),
    );

    const tracing = startProcess('tracing', 'services/tracing/src/main.ts', [], {
      ...common,
      TRACING_PORT: String(tracingPort),
      TRACING_HOST: '127.0.0.1',
      TRACING_API_KEY_SALT: 'e2e-salt-0123456789abcdef',
      TRACING_COMPLETION_GRACE_MS: '500',
      TRACING_STATS_LATENESS_MS: '1000',
    });
    const billing = startProcess('billing', 'services/billing/src/main.ts', [], {
      ...common,
      BILLING_PORT: String(billingPort),
      BILLING_HOST: '127.0.0.1',
      BILLING_WINDOW_SECONDS: '5',
      BILLING_LATENESS_SECONDS: '2',
    });
    const notifier = startProcess('notifier', 'services/notifier/src/main.ts', [], {
      ...common,
      NOTIFIER_PORT: String(notifierPort),
      NOTIFIER_HOST: '127.0.0.1',
      NOTIFIER_REDIS_PREFIX: `aw-e2e-${namespace}`,
      NOTIFIER_CONFIG: notifierConfig,
    });
    // Two rules on the live metrics: one fires per busy node (and reaches the notifier), one stays pending.
    rules = path.join(dir, 'console-e2e.rules.yml');
    fs.writeFileSync(
      rules,
      [
        'groups:',
        '  - name: console-e2e',
        '    interval: 1s',
        '    rules:',
        '      - alert: BusyNode',
        '        expr: max by (node) (DCGM_FI_DEV_GPU_UTIL) > 50',
        '        labels: { severity: P2 }',
        '        annotations: { summary: "GPUs of {{ $labels.node }} above 50 %" }',
        '      - alert: BusyNodeForAnHour',
        '        expr: max by (node) (DCGM_FI_DEV_GPU_UTIL) > 50',
        '        for: 1h',
        '        labels: { severity: P3 }',
        '',
      ].join('\n'),
    );
    const anomaly = startProcess('anomaly', 'services/anomaly/src/main.ts', [], {
      ...common,
      ANOMALY_PORT: String(anomalyPort),
      ANOMALY_HOST: '127.0.0.1',
      ANOMALY_RULE_FILES: rules,
      ANOMALY_ALERTMANAGER_URL: notifierUrl,
      ANOMALY_HISTORY_URL: url(collectorPort),
    });
    procs.push(anomaly);
    const consoleProc = startProcess('console', 'services/console/src/main.ts', [], {
      ...common,
      CONSOLE_PORT: String(consolePort),
      CONSOLE_HOST: '127.0.0.1',
      CONSOLE_BOOTSTRAP_ADMIN_TOKEN: ADMIN,
      // The test machine may be busy; the 3 s default would turn slow answers into "unavailable".
      CONSOLE_UPSTREAM_TIMEOUT_MS: '15000',
      CONSOLE_COLLECTOR_URL: url(collectorPort),
      CONSOLE_TRACING_URL: url(tracingPort),
      CONSOLE_BILLING_URL: url(billingPort),
      CONSOLE_NOTIFIER_URL: notifierUrl,
      CONSOLE_ANOMALY_URL: url(anomalyPort),
    });
    procs.push(tracing, billing, notifier, consoleProc);
    // Everything starts at once (start-up is most of this test's time); the fleet's first request
    // events may reach tracing before it listens, which only means fewer requests.

    const scrapeConfig = path.join(dir, 'collector.yml');
    const fleet = startProcess(
      'fleet-sim',
      'tools/fleet-sim/src/main.ts',
      [
        '--nodes',
        String(NODES),
        '--gpus',
        String(GPUS),
        '--base-port',
        String(fleetPort),
        '--outage',
        'none',
        '--scrape-interval',
        '1s',
        '--write-sd',
        path.join(dir, 'fleet-sd.json'),
        '--write-scrape-config',
        scrapeConfig,
        '--tracing-url',
        url(tracingPort),
      ],
      { ARCWATCH_INGEST_TOKEN: TEST_INGEST_TOKEN },
    );
    procs.push(fleet);
    await eventually(
      () => (fs.existsSync(scrapeConfig) ? true : undefined),
      30_000,
      `fleet scrape config\n${fleet.log()}`,
    );
    const collector = startProcess('collector', 'services/collector/src/main.ts', [], {
      ...common,
      COLLECTOR_PORT: String(collectorPort),
      COLLECTOR_HOST: '127.0.0.1',
      COLLECTOR_CONFIG: scrapeConfig,
    });
    procs.push(collector);
    await Promise.all([
      ready(tracing, url(tracingPort)),
      ready(collector, url(collectorPort)),
      ready(billing, url(billingPort)),
      ready(notifier, notifierUrl),
      ready(anomaly, url(anomalyPort)),
      ready(consoleProc, consoleUrl),
    ]);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    hook.close();
    for (const p of procs.reverse()) await p.stop();
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const login = async (p: Page, token: string) => {
    await p.goto(`${consoleUrl}/?view=fleet`);
    // a fresh browser context loads the whole bundle first: with the rest of the suite running
    // beside it (two jest workers on two cores) that has taken longer than Playwright's 30 s
    await p.waitForSelector('input[name=token]', { timeout: 60_000 });
    await p.fill('input[name=token]', token);
    await p.click('button[type=submit]');
    await p.waitForSelector('header .who');
  };

  it('fleet: the heatmap shows every simulated GPU with live values', async () => {
    await login(page, ADMIN);
    await eventually(
      async () => {
        await page.goto(`${consoleUrl}/?view=fleet`);
        await page.waitForSelector('[data-total=gpus], [role=alert]', { timeout: 20_000 });
        const count = async (what: string) => Number(await (await page.$(`[data-total=${what}]`))?.textContent());
        // Every GPU known and, with no outage simulated, every one of them reporting now.
        return (await count('gpus')) === NODES * GPUS && (await count('down')) === 0 ? true : undefined;
      },
      90_000,
      'every GPU on the fleet page',
    );
    const cells = await page.$$eval('button.cell', (els) =>
      els.map((e) => ({ node: e.getAttribute('data-node'), value: e.getAttribute('data-value') })),
    );
    expect(cells).toHaveLength(NODES * GPUS);
    expect(cells.every((c) => c.value !== '' && Number(c.value) >= 0 && Number(c.value) <= 100)).toBe(true);
    // The page is fed by the console's event stream (server-sent events), not by polling.
    await page.waitForSelector('.live[data-live=live]', { timeout: 20_000 });
    await shot('fleet');
  }, 120_000);

  it('drills from the hottest GPU to the requests its node served and to one request with its cost', async () => {
    // The stack has run for a minute or two: a short range keeps the charts readable.
    await page.goto(`${consoleUrl}/?view=fleet&range=15m`);
    await page.waitForSelector('button.cell');
    const hottest = await page.$$eval(
      'button.cell',
      (els) =>
        els
          .map((e) => ({
            node: e.getAttribute('data-node') ?? '',
            gpu: e.getAttribute('data-gpu') ?? '',
            v: Number(e.getAttribute('data-value')),
          }))
          .sort((a, b) => b.v - a.v)[0],
    );
    await page.click(`button.cell[data-node="${hottest.node}"][data-gpu="${hottest.gpu}"]`);
    await page.waitForSelector('.chart canvas');
    expect(page.url()).toContain(`node=${hottest.node}`);
    await shot('node-gpu');

    await page.click('[data-action=requests-on-node]');
    const rows = await eventually(
      async () => {
        await page.reload();
        await page.waitForSelector('table[aria-label=requests], .empty');
        const r = await page.$$eval('tr[data-request]', (els) => els.map((e) => e.getAttribute('data-request') ?? ''));
        return r.length > 0 ? r : undefined;
      },
      60_000,
      'requests served by the node',
    );
    const nodes = await page.$$eval('tr[data-request] td:nth-child(6)', (els) => els.map((e) => e.textContent));
    expect(new Set(nodes)).toEqual(new Set([hottest.node]));
    await shot('requests', page, false);

    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.waitForSelector('ol.timeline li');
    expect(page.url()).toContain(`id=${encodeURIComponent(rows[0])}`);
    // Billing allocates a window a few seconds after it closes.
    const amount = await eventually(
      async () => {
        await page.reload();
        await page.waitForSelector('[data-section=cost]');
        const a = await page.getAttribute('[data-section=cost] [data-amount]', 'data-amount').catch(() => null);
        return a ?? undefined;
      },
      60_000,
      'the request cost',
    );
    expect(Number(amount)).toBeGreaterThan(0);
    await shot('request');
  }, 150_000);

  it('model instances, costs and configuration show live data', async () => {
    await page.goto(`${consoleUrl}/?view=instances&range=15m`);
    await page.waitForSelector('table[aria-label=engines] tbody tr');
    expect(await page.$$eval('table[aria-label=engines] tbody tr', (els) => els.length)).toBe(NODES);
    await shot('instances');

    await page.goto(`${consoleUrl}/?view=costs&by=tenant&range=15m`);
    await page.waitForSelector('table[aria-label="cost report"] tbody tr');
    const amounts = await page.$$eval('table[aria-label="cost report"] [data-amount]', (els) =>
      els.map((e) => Number(e.getAttribute('data-amount'))),
    );
    expect(amounts.some((a) => a > 0)).toBe(true);
    await page.click('table[aria-label="cost report"] tbody tr:first-child a');
    await page.waitForSelector('.tree details');
    await shot('costs');

    await page.goto(`${consoleUrl}/?view=configuration`);
    await page.waitForSelector('tr[data-service=collector][data-up=true]');
    expect(
      await page.$$eval('tr[data-service]', (els) =>
        els.map((e) => [e.getAttribute('data-service'), e.getAttribute('data-up')]),
      ),
    ).toEqual([
      ['collector', 'true'],
      ['tracing', 'true'],
      ['billing', 'true'],
      ['anomaly', 'true'],
      ['notifier', 'true'],
    ]);
    await shot('configuration');
  }, 90_000);

  it('configuration: an admin edits a rule file; a mistake is shown on its line, the fix is saved and in force', async () => {
    await page.goto(`${consoleUrl}/?view=configuration`);
    const editor = `[data-config-file="${rules}"]`;
    await page.waitForSelector(`${editor} textarea`, { timeout: 20_000 });
    const original = await page.inputValue(`${editor} textarea`);
    expect(original).toBe(fs.readFileSync(rules, 'utf8'));
    // A new rule at the end whose expression does not parse: its line is the file's last but one.
    const broken = `${original}      - alert: HotGpu\n        expr: max by (node) (DCGM_FI_DEV_GPU_TEMP) >\n`;
    const exprLine = broken.split('\n').length - 1;
    await page.fill(`${editor} textarea`, broken);
    await page.click(`${editor} [data-action=save-config]`);
    await page.waitForSelector(`${editor} [data-result=refused]`);
    expect(
      await page.$$eval(`${editor} .line-error`, (els) =>
        els.map((e) => [e.getAttribute('data-line'), e.getAttribute('data-field')]),
      ),
    ).toEqual([[String(exprLine), 'groups[0].rules[2].expr']]);
    expect(await page.getAttribute(`${editor} .gutter div:nth-child(${exprLine})`, 'class')).toBe('bad');
    expect(fs.readFileSync(rules, 'utf8')).toBe(original);
    await (await page.$(editor))?.screenshot({ path: path.join(SHOTS, 'configuration-editor.png') });

    await page.fill(`${editor} textarea`, broken.replace('GPU_TEMP) >\n', 'GPU_TEMP) > 80\n'));
    await page.click(`${editor} [data-action=save-config]`);
    await page.waitForSelector(`${editor} [data-result=saved]`);
    expect(await page.textContent(`${editor} [data-result=saved]`)).toContain('1 group, 3 rules');
    expect(fs.readFileSync(rules, 'utf8')).toContain('expr: max by (node) (DCGM_FI_DEV_GPU_TEMP) > 80');
    // Written by anomaly and in force there at once.
    const names = (
      (await (await fetch(`${anomalyUrl}/api/v1/rules`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as {
        data: { groups: Array<{ rules: Array<{ name: string }> }> };
      }
    ).data.groups.flatMap((g) => g.rules.map((r) => r.name));
    expect(names).toEqual(['BusyNode', 'BusyNodeForAnHour', 'HotGpu']);
  }, 60_000);

  it('long lists are virtualised: 5,000 requests keep a few dozen rows in the page, and scrolling reaches the last', async () => {
    // The explorer's own API answer, made long: the browser's list is what is under test here.
    const items = Array.from({ length: 5_000 }, (_, i) => ({
      requestId: `req-long-${String(i).padStart(4, '0')}`,
      status: 'completed',
      tenant: 'acme',
      model: 'llama',
      node: 'gpu-node-001',
      startedAt: new Date(Date.now() - i * 1_000).toISOString(),
      promptTokens: 10,
      completionTokens: 20,
      ttftMs: 100,
      e2eMs: 900,
    }));
    const requestsApi = (u: URL) => u.pathname === '/api/console/requests';
    await page.route(requestsApi, (route) =>
      route.fulfill({
        contentType: 'application/json',
        body: JSON.stringify({ items, nextCursor: null, scanned: 5_000 }),
      }),
    );
    try {
      await page.goto(`${consoleUrl}/?view=requests`);
      await page.waitForSelector('[data-count="5000"]');
      const drawn = await page.$$eval('tr[data-request]', (els) => els.length);
      expect(drawn).toBeGreaterThan(10);
      expect(drawn).toBeLessThan(80);
      await page.$eval('.virtual', (el) => el.scrollTo(0, el.scrollHeight));
      await page.waitForSelector('tr[data-request="req-long-4999"]');
      expect(await page.$$eval('tr[data-request]', (els) => els.length)).toBeLessThan(80);
      // Keyboard navigation moves through the whole list, drawing the rows it reaches.
      await page.$eval('.virtual', (el) => el.scrollTo(0, 0));
      await page.waitForSelector('tr[data-request="req-long-0000"]');
      for (let i = 0; i < 60; i++) await page.keyboard.press('j');
      await page.waitForSelector('tr.selected[data-request="req-long-0059"]');
      await shot('requests-long', page, false);
    } finally {
      await page.unroute(requestsApi);
    }
  }, 60_000);

  it('live pages fall back to polling when the event stream is refused, and keep showing data', async () => {
    const events = (u: URL) => u.pathname === '/api/console/events';
    await page.route(events, (route) => route.abort());
    try {
      await page.goto(`${consoleUrl}/?view=fleet`);
      await page.waitForSelector('.live[data-live=polling]', { timeout: 20_000 });
      expect(Number(await page.textContent('[data-total=gpus]'))).toBe(NODES * GPUS);
    } finally {
      await page.unroute(events);
    }
  }, 30_000);

  it('alerts: acknowledge and silence from the page reach the notifier', async () => {
    const now = new Date().toISOString();
    const post = await fetch(`${notifierUrl}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify([
        {
          labels: { alertname: 'HighTTFT', tenant: 'acme', severity: 'page' },
          annotations: { summary: 'TTFT p99 above 2 s' },
          startsAt: now,
        },
        {
          labels: { alertname: 'GpuTooHot', tenant: 'globex', node: 'gpu-node-001' },
          annotations: { summary: 'GPU above 85 °C' },
          startsAt: now,
        },
      ]),
    });
    expect(post.status).toBe(200);
    // The anomaly service's rules: BusyNode fires for each node and reaches the notifier, the hour-long one is pending.
    await eventually(
      async () => {
        await page.goto(`${consoleUrl}/?view=alerts`);
        await page.waitForSelector('table[aria-label="rule alerts"]', { timeout: 5_000 });
        const states = await page.$$eval('table[aria-label="rule alerts"] tbody tr', (els) =>
          els.map((e) => e.textContent ?? ''),
        );
        const firing = await page.$$eval('tr[data-state=firing]', (els) => els.map((e) => e.textContent ?? ''));
        return states.filter((t) => t.includes('BusyNodeForAnHour') && t.includes('pending')).length === NODES &&
          firing.filter((t) => t.includes('BusyNode')).length === NODES &&
          firing.length === NODES + 2
          ? true
          : undefined;
      },
      45_000,
      'rule alerts pending and firing, and firing alerts in the notifier',
    );
    const fingerprint = await page.getAttribute('tr[data-state=firing]:has-text("HighTTFT")', 'data-fingerprint');
    await eventually(
      async () => {
        const r = await fetch(`${notifierUrl}/api/v1/alerts/${fingerprint}/escalation`, {
          headers: { authorization: `Bearer ${ADMIN}` },
        });
        return r.ok && ((await r.json()) as { escalation: unknown }).escalation ? true : undefined;
      },
      20_000,
      'the escalation of the alert',
    );
    await page.click('tr[data-state=firing]:has-text("HighTTFT") [data-action=ack]');
    await page.waitForSelector('tr[data-state=acknowledged]:has-text("HighTTFT")');
    await page.click('tr[data-state=firing]:has-text("GpuTooHot") [data-action=silence]');
    await page.waitForSelector('tr[data-state=silenced]:has-text("GpuTooHot")');
    expect(await page.$$eval('table[aria-label=silences] tbody tr', (els) => els.length)).toBe(1);
    // History: what the notifier sent to the webhook receiver, from its notification log.
    const sent = await eventually(
      async () => {
        await page.reload();
        await page.waitForSelector('table[aria-label="notification history"], .empty', { timeout: 10_000 });
        const rows = await page.$$eval('table[aria-label="notification history"] tr[data-notification]', (els) =>
          els.map((e) => ({ id: e.getAttribute('data-notification') ?? '', text: e.textContent ?? '' })),
        );
        return rows.length > 0 ? rows : undefined;
      },
      30_000,
      'the notification log on the alerts page',
    );
    expect(sent.every((r) => r.text.includes('team') && r.text.includes('webhook'))).toBe(true);
    // The rows drawn are the log's entries from the newest on, in order, none left out (the log
    // only grows, so the newest the page shows is at or after the start of the list asked later).
    const log = await api<{ items: Array<{ id: number }> }>('/api/console/alerts/history');
    const ids = log.body.items.map((n) => String(n.id));
    const first = ids.indexOf(sent[0]!.id);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(sent.map((r) => r.id)).toEqual(ids.slice(first, first + sent.length));
    await shot('alerts');
  }, 60_000);

  it('a token scoped to one tenant sees only that tenant, in the page and through the API', async () => {
    const issued = await api<{ token: string }>('/api/console/tokens', {
      method: 'POST',
      body: JSON.stringify({ name: 'acme-viewer', role: 'viewer', tenant: 'acme' }),
    });
    expect(issued.status).toBe(201);
    const all = await api<{ items: Req[] }>('/api/console/requests?limit=500&range=1h');
    const other = all.body.items.find((r) => r.tenant !== 'acme');
    expect(other).toBeDefined();

    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const scoped = await ctx.newPage();
    await login(scoped, issued.body.token);
    await scoped.goto(`${consoleUrl}/?view=requests`);
    await scoped.waitForSelector('tr[data-request]');
    const tenants = await scoped.$$eval('tr[data-request] td:nth-child(3)', (els) => els.map((e) => e.textContent));
    expect(new Set(tenants)).toEqual(new Set(['acme']));
    await scoped.goto(`${consoleUrl}/?view=request&id=${encodeURIComponent(other?.requestId ?? '')}`);
    await scoped.waitForSelector('[role=alert]');
    expect(await scoped.textContent('[role=alert]')).toContain('NOT_FOUND');
    // The session's own fetches: another tenant is refused, cross-tenant views too.
    const statuses = await scoped.evaluate(async () =>
      Promise.all(
        ['/api/console/requests?tenant=globex', '/api/console/costs?tenant=globex', '/api/console/configuration'].map(
          async (u) => (await fetch(u)).status,
        ),
      ),
    );
    expect(statuses).toEqual([403, 403, 403]);
    await scoped.goto(`${consoleUrl}/?view=alerts`);
    await scoped.waitForSelector('table[aria-label="acknowledged alerts"]');
    expect(
      await scoped.$$eval('tr[data-fingerprint]', (els) =>
        els.map((e) => e.textContent ?? '').every((t) => t.includes('tenant=acme')),
      ),
    ).toBe(true);
    await shot('scoped-alerts', scoped);
    await ctx.close();
  }, 120_000);
});
