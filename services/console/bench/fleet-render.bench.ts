/**
 * Console render time on the 1,000-GPU reference fleet: fleet-sim (125 nodes × 8 GPUs, the shape
 * of ../shared/bench/fleet.mjs) scraped by the collector every 5 s, the console in front of it, and
 * Debian's headless Chromium (playwright-core). Time = from the start of navigation to the first
 * animation frame in which the fleet page holds all 1,000 GPU cells, read inside the page
 * (performance.now(), whose origin is the navigation start).
 *
 *   npm run bench:console -- [--runs 10] [--nodes 125] [--no-docs] [--hold]
 *
 * Cold runs: a new browser context each time (empty HTTP cache, session cookie set), so the
 * app's scripts, the session check and the fleet API are all on the clock. Warm runs: reloads of
 * one page. Peer in the same run: the same 1,000 cells as a static HTML page (no script, no API)
 * from a local server: what the browser needs for this much DOM with nothing else. Rewrites the
 * console block of docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import {
  createTestDatabase,
  eventually,
  freePort,
  freePortRange,
  REPO_ROOT,
  startProcess,
  testNamespace,
  uniqueToken,
  type RunningProcess,
} from '@arcwatch/testing';
import { EXPORTER_UP_QUERY, FLEET_METRICS, FLEET_QUERY, INVENTORY_METRIC } from '../src/fleet/fleet';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) || fallback : fallback;
};
const RUNS = arg('--runs', 10);
const NODES = arg('--nodes', 125);
const GPUS = 8;
const WRITE_DOCS = !argv.includes('--no-docs');
/** Keep the stack up after the fleet is complete (to look at it), until SIGINT; nothing is measured. */
const HOLD = argv.includes('--hold');
const ADMIN = `aw_bench-admin-${uniqueToken()}`;
const CHROMIUM =
  process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
const log = (m: string): void => void process.stdout.write(`${m}\n`);

interface Stats {
  median: number;
  p90: number;
  min: number;
  max: number;
  n: number;
}
function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return { median: NaN, p90: NaN, min: NaN, max: NaN, n: 0 };
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { median: q(0.5), p90: q(0.9), min: s[0], max: s[s.length - 1], n: s.length };
}
const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x).toLocaleString('en-US')} ms` : '–');

/** Console navigations that did not show every cell within 60 s, with what the page said. */
const failures: string[] = [];
const failed = (err: unknown): undefined => {
  failures.push((err as Error).message);
  log((err as Error).message);
  return undefined;
};

/** Per navigation of the console: from the fleet's answer to all cells drawn (the page's own work). */
const afterData: number[] = [];
/** Per navigation of the console: when the fleet's answer and the app's script had arrived (ms since navigation). */
const fleetAnswered: number[] = [];
const scriptLoaded: number[] = [];

/** Navigates and answers the in-page time (ms since navigation start) of the first frame with `cells` cells. */
async function timeToCells(page: Page, url: string, cells: number, reload = false): Promise<number> {
  // Runs in the page; this file is compiled without the DOM's types.
  type InPage = { document: { querySelectorAll(selector: string): { length: number } } };
  const waiting = page.waitForFunction(
    (n: number) =>
      (globalThis as unknown as InPage).document.querySelectorAll('button.cell').length >= n
        ? performance.now()
        : false,
    cells,
    { polling: 'raf', timeout: 60_000 },
  );
  if (reload) await page.reload({ waitUntil: 'commit' });
  else await page.goto(url, { waitUntil: 'commit' });
  try {
    const at = (await (await waiting).jsonValue()) as number;
    // When the fleet's answer had arrived (the GET asked at start; the event stream may come first).
    const answered = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .filter((e) => e.name.includes('/api/console/fleet'))
        .map((e) => (e as unknown as { responseEnd: number }).responseEnd),
    );
    const before = answered.filter((t) => t > 0 && t <= at);
    if (before.length > 0) {
      afterData.push(at - Math.min(...before));
      fleetAnswered.push(Math.min(...before));
    }
    const script = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .filter((e) => /\/assets\/index-[^/]*\.js$/.test(e.name))
        .map((e) => (e as unknown as { responseEnd: number }).responseEnd),
    );
    if (script.length > 0) scriptLoaded.push(Math.max(...script));
    return at;
  } catch (err) {
    const shown = await page
      .$$eval('[role=alert], [data-total=gpus]', (els) => els.map((e) => e.textContent).join(' | '))
      .catch(() => '');
    throw new Error(`${url}: not all ${cells} cells within 60 s (page shows: ${shown || 'nothing'})`, { cause: err });
  }
}

/** The console's asks of the collector for the fleet page (fleet.service.ts), as URL paths at a time. */
function fleetAsks(): Record<string, (atS: number) => string> {
  const q = (expr: string) => (atS: number) =>
    `api/v1/query?${new URLSearchParams({ query: expr, time: String(atS) })}`;
  return {
    [`instant \`{__name__=~"DCGM_FI_DEV_GPU_UTIL…"}\` (the ${Object.keys(FLEET_METRICS).length} heatmap metrics)`]:
      q(FLEET_QUERY),
    [`instant \`${EXPORTER_UP_QUERY}\``]: q(EXPORTER_UP_QUERY),
    [`\`/api/v1/series\` of ${INVENTORY_METRIC}, last hour`]: (atS) =>
      `api/v1/series?${new URLSearchParams({ 'match[]': INVENTORY_METRIC, start: String(atS - 3600), end: String(atS) })}`,
  };
}

function staticFleetPage(nodes: number, gpus: number): string {
  const rows = Array.from({ length: nodes }, (_, n) => {
    const node = `gpu-node-${String(n + 1).padStart(3, '0')}`;
    const cells = Array.from(
      { length: gpus },
      (_, g) =>
        `<td><button type="button" class="cell busy" data-node="${node}" data-gpu="${g}" style="background:hsl(${(n * 7 + g * 13) % 220},70%,40%)">${(n * 7 + g * 13) % 100}</button></td>`,
    ).join('');
    return `<tr><th>${node}</th>${cells}</tr>`;
  }).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><style>button.cell{width:44px;height:28px;border:0;color:#fff}</style></head><body><table>${rows}</table></body></html>`;
}

async function main(): Promise<void> {
  if (!CHROMIUM) throw new Error('no chromium: run `apt-get install -y chromium` (infra/peers.sh)');
  const load0 = os.loadavg();
  log('building the app (vite)');
  execFileSync(
    path.join(REPO_ROOT, 'node_modules/.bin/vite'),
    ['build', '--config', 'services/console/web/vite.config.ts'],
    { cwd: REPO_ROOT, stdio: 'pipe', env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' } },
  );
  const assets = path.join(REPO_ROOT, 'services/console/web/dist/assets');
  const bundleBytes = fs
    .readdirSync(assets)
    .filter((f) => f.startsWith('index-') && f.endsWith('.js'))
    .reduce((n, f) => n + fs.statSync(path.join(assets, f)).size, 0);

  const db = await createTestDatabase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-console-bench-'));
  const namespace = testNamespace();
  const procs: RunningProcess[] = [];
  let browser: Browser | undefined;
  const peer = http.createServer((_, res) =>
    res.writeHead(200, { 'content-type': 'text/html' }).end(staticFleetPage(NODES, GPUS)),
  );
  try {
    const [collectorPort, consolePort, peerPort, fleetPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePortRange(NODES * 2),
    ];
    const url = (port: number) => `http://127.0.0.1:${port}`;
    const common = {
      DATABASE_URL: db.url,
      NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
      NATS_NAMESPACE: namespace,
      AUTH_BOOTSTRAP_TOKEN: ADMIN,
    };
    const scrapeConfig = path.join(dir, 'collector.yml');
    const fleet = startProcess(
      'fleet-sim',
      'tools/fleet-sim/src/main.ts',
      [
        ...['--nodes', String(NODES), '--gpus', String(GPUS), '--base-port', String(fleetPort)],
        ...['--outage', 'none', '--scrape-interval', '5s', '--write-scrape-config', scrapeConfig],
      ],
      {},
    );
    procs.push(fleet);
    await eventually(
      () => (fs.existsSync(scrapeConfig) && fs.statSync(scrapeConfig).size > 0 ? true : undefined),
      60_000,
      `fleet scrape config\n${fleet.log()}`,
    );
    const collector = startProcess('collector', 'services/collector/src/main.ts', [], {
      ...common,
      COLLECTOR_PORT: String(collectorPort),
      COLLECTOR_HOST: '127.0.0.1',
      COLLECTOR_CONFIG: scrapeConfig,
    });
    const consoleProc = startProcess('console', 'services/console/src/main.ts', [], {
      ...common,
      CONSOLE_PORT: String(consolePort),
      CONSOLE_HOST: '127.0.0.1',
      CONSOLE_BOOTSTRAP_ADMIN_TOKEN: ADMIN,
      CONSOLE_UPSTREAM_TIMEOUT_MS: '15000',
      CONSOLE_COLLECTOR_URL: url(collectorPort),
    });
    procs.push(collector, consoleProc);
    const consoleUrl = url(consolePort);
    const auth = { authorization: `Bearer ${ADMIN}` };
    for (const [p, base] of [
      [collector, url(collectorPort)],
      [consoleProc, consoleUrl],
    ] as const)
      await eventually(
        async () => ((await fetch(`${base}/readyz`).catch(() => null))?.ok ? true : undefined),
        120_000,
        `${p.name} ready\n${p.log()}`,
      );
    log(`waiting until the console sees all ${NODES * GPUS} GPUs reporting`);
    await eventually(
      async () => {
        const r = await fetch(`${consoleUrl}/api/console/fleet`, { headers: auth }).catch(() => null);
        if (!r?.ok) return undefined;
        const t = ((await r.json()) as { totals: { gpus: number; down: number } }).totals;
        return t.gpus === NODES * GPUS && t.down === 0 ? true : undefined;
      },
      180_000,
      `every GPU reporting\n${collector.log()}\n${consoleProc.log()}`,
    );

    if (HOLD) {
      log(`console ${consoleUrl} (token ${ADMIN}); Ctrl-C to stop`);
      await new Promise<void>((r) => process.once('SIGINT', () => r()));
      return;
    }
    // The fleet API alone, as the page asks it: from the console's snapshot when it is fresh.
    const api: number[] = [];
    let apiBytes = 0;
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const body = await (await fetch(`${consoleUrl}/api/console/fleet`, { headers: auth })).text();
      api.push(performance.now() - t);
      apiBytes = body.length;
    }
    // Computed afresh (`at` skips the snapshot): the console asking the collector, then the heatmap.
    const apiComputed: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const r = await fetch(`${consoleUrl}/api/console/fleet?at=${Date.now() / 1000}`, { headers: auth });
      await r.text();
      if (!r.ok) throw new Error(`fleet?at=: ${r.status}`);
      apiComputed.push(performance.now() - t);
    }
    // Each of the console's asks of the collector, one at a time.
    const collectorBase = url(collectorPort);
    const upstream: Record<string, number[]> = {};
    for (const [name, ask] of Object.entries(fleetAsks())) {
      upstream[name] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now();
        const r = await fetch(`${collectorBase}/${ask(Date.now() / 1000)}`, { headers: auth });
        await r.text();
        if (!r.ok) throw new Error(`${name}: ${r.status}`);
        upstream[name].push(performance.now() - t);
      }
    }

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    });
    const chromiumVersion = browser.version();
    const login = async (ctx: BrowserContext) => {
      const r = await ctx.request.post(`${consoleUrl}/api/console/session`, { data: { token: ADMIN } });
      if (!r.ok()) throw new Error(`login: ${r.status()}`);
    };
    // As a user opens it: the live page (event stream), with the fleet asked for at start.
    const pageUrl = `${consoleUrl}/?view=fleet`;
    const cells = NODES * GPUS;

    // One warm-up navigation (the console's and collector's first answers), not counted.
    {
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      await login(ctx);
      await timeToCells(await ctx.newPage(), pageUrl, cells);
      await ctx.close();
      afterData.length = 0;
      fleetAnswered.length = 0;
      scriptLoaded.length = 0;
    }
    const cold: number[] = [];
    let domRows = { gpuList: 0, cells: 0 };
    for (let i = 0; i < RUNS; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      await login(ctx);
      const page = await ctx.newPage();
      const t = await timeToCells(page, pageUrl, cells).catch(failed);
      if (t !== undefined) cold.push(t);
      domRows = {
        gpuList: await page.$$eval('tr[data-gpu-row]', (els) => els.length),
        cells: await page.$$eval('button.cell', (els) => els.length),
      };
      await ctx.close();
    }
    const coldParts = { fleetAnswered: stats(fleetAnswered), scriptLoaded: stats(scriptLoaded) };
    const warm: number[] = [];
    {
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      await login(ctx);
      const page = await ctx.newPage();
      await timeToCells(page, pageUrl, cells);
      for (let i = 0; i < RUNS; i++) {
        const t = await timeToCells(page, pageUrl, cells, true).catch(failed);
        if (t !== undefined) warm.push(t);
      }
      await ctx.close();
    }
    await new Promise<void>((r) => peer.listen(peerPort, '127.0.0.1', r));
    const staticPage: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      staticPage.push(await timeToCells(await ctx.newPage(), url(peerPort), cells));
      await ctx.close();
    }
    const load1 = os.loadavg();
    const r = {
      failures,
      afterData: stats(afterData),
      cold: stats(cold),
      coldParts,
      warm: stats(warm),
      staticPage: stats(staticPage),
      api: stats(api),
      apiComputed: stats(apiComputed),
      upstream: Object.fromEntries(Object.entries(upstream).map(([k, v]) => [k, stats(v)])),
      apiBytes,
      bundleBytes,
      domRows,
      chromiumVersion,
      load0,
      load1,
    };
    log(JSON.stringify(r, null, 2));
    if (WRITE_DOCS) writeDocs(r);
  } finally {
    await browser?.close();
    peer.close();
    for (const p of procs.reverse()) await p.stop();
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function writeDocs(r: {
  failures: string[];
  afterData: Stats;
  cold: Stats;
  coldParts: { fleetAnswered: Stats; scriptLoaded: Stats };
  warm: Stats;
  staticPage: Stats;
  api: Stats;
  apiComputed: Stats;
  upstream: Record<string, Stats>;
  apiBytes: number;
  bundleBytes: number;
  domRows: { gpuList: number; cells: number };
  chromiumVersion: string;
  load0: number[];
  load1: number[];
}): void {
  const file = path.join(REPO_ROOT, 'docs', 'benchmarks.md');
  const text = fs.readFileSync(file, 'utf8');
  const loads = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  const row = (what: string, s: Stats) =>
    `| ${what} | **${ms(s.median)}** | ${ms(s.p90)} | ${ms(s.min)} – ${ms(s.max)} | ${s.n} |`;
  const block = [
    '<!-- console-bench:start -->',
    `Machine: ${os.availableParallelism()} cores (nproc), ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, Node ${process.version}, Chromium ${r.chromiumVersion} (headless); fleet-sim, collector, console, PostgreSQL, NATS and the browser on the same machine; load average (1/5/15 min) at the start ${loads(r.load0)}, at the end ${loads(r.load1)}; shared with other work. Measured ${new Date().toISOString().slice(0, 10)}, ${NODES} nodes × ${GPUS} GPUs.`,
    '',
    '| navigation → all GPU cells on the fleet page | median | p90 | min – max | runs |',
    '| --- | --- | --- | --- | --- |',
    row(`console, cold (new context: empty cache, scripts ${(r.bundleBytes / 1024).toFixed(0)} KiB)`, r.cold),
    row("… of which: the app's script loaded (since navigation)", r.coldParts.scriptLoaded),
    row('… of which: `GET /api/console/fleet` answered (since navigation)', r.coldParts.fleetAnswered),
    row('console, warm (reload)', r.warm),
    row('peer: the same cells as static HTML (no script, no API)', r.staticPage),
    row('console, from the fleet API answer to all cells drawn (cold and warm runs)', r.afterData),
    row(
      `\`GET /api/console/fleet\` alone (from Node, ${(r.apiBytes / 1024).toFixed(0)} KiB of JSON; the console's snapshot)`,
      r.api,
    ),
    row('`GET /api/console/fleet?at=now` (computed: the collector asked, then the heatmap)', r.apiComputed),
    ...Object.entries(r.upstream).map(([name, st]) => row(`collector alone: ${name}`, st)),
    '',
    `With all ${r.domRows.cells} cells drawn, the virtualised GPU list under the heatmap held ${r.domRows.gpuList} rows in the page.`,
    ...(r.failures.length > 0
      ? [
          '',
          `${r.failures.length} console navigation(s) did not show every cell within 60 s and are not in the figures: ${[...new Set(r.failures.map((f) => f.replace(/^\S+: /, '')))].join('; ')}.`,
        ]
      : []),
    '<!-- console-bench:end -->',
  ].join('\n');
  const re = /<!-- console-bench:start -->[\s\S]*?<!-- console-bench:end -->/;
  if (!re.test(text))
    throw new Error('docs/benchmarks.md has no console-bench block (add the ## Console section first)');
  fs.writeFileSync(file, text.replace(re, block));
  log('docs/benchmarks.md updated');
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
