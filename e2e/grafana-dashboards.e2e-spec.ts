/**
 * Every query of every Grafana dashboard under infra/grafana, run the way Grafana runs it against
 * a live ArcWatch: the simulated fleet serves dcgm-exporter and vLLM metrics and sends request
 * traffic, tracing assembles the requests and publishes their per-minute statistics, and the
 * collector scrapes the fleet and the two services' own /metrics. Nine minutes of simulated
 * history are sent to tracing first, so the per-minute counters have the several samples a rate
 * needs without the test waiting minutes. A query that errors or returns no series fails the
 * test, named by dashboard, panel and expression.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { z } from 'zod';
import { REQUEST_EVENT_BATCH_MAX, isTerminalKind, type RequestEventKind } from '@arcwatch/contracts';
import {
  TEST_ADMIN_TOKEN,
  TEST_AUTH_ENV,
  TEST_INGEST_TOKEN,
  authFetch,
  createTestDatabase,
  eventually,
  testNamespace,
  type TestDatabase,
} from '@arcwatch/testing';
import { freePort, freePortRange, startProcess, type RunningProcess } from '@arcwatch/testing';
import {
  GRAFANA_DIR,
  durationMs,
  intervals,
  loadDashboards,
  panelQueries,
  parseLabelValues,
  regexEscape,
  substitute,
  variableQuery,
  type Dashboard,
  type IntervalSettings,
  type PanelQuery,
  type TimeRange,
} from './grafana/dashboard-queries';

const NODES = 2;
const GPUS = 4;
const HISTORY_S = 9 * 60;
const RANGE_MS = 10 * 60_000;

interface PromResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: unknown[] } | string[];
}

const sampleSchema = z.tuple([z.number(), z.string()]);
const seriesSchema = z.union([z.object({ values: z.array(sampleSchema) }), z.object({ value: sampleSchema })]);

function hasFiniteValue(series: unknown): boolean {
  const parsed = seriesSchema.safeParse(series);
  if (!parsed.success) return false;
  const samples = 'values' in parsed.data ? parsed.data.values : [parsed.data.value];
  return samples.some(([, v]) => Number.isFinite(Number(v)));
}

type Selection = 'first' | 'all';

describe('Grafana dashboards against a live ArcWatch', () => {
  let db: TestDatabase;
  let dir: string;
  const procs: RunningProcess[] = [];
  let collectorUrl = '';
  let tracingUrl = '';
  let settings: IntervalSettings;
  /**
   * The end of the last minute of simulated history in which a request ended: tracing publishes it
   * once it closes.
   */
  let historyLastMinuteEndMs = 0;

  beforeAll(async () => {
    const ds = parseYaml(fs.readFileSync(path.join(GRAFANA_DIR, 'provisioning/datasources/arcwatch.yaml'), 'utf8')) as {
      datasources: Array<{ jsonData: { timeInterval: string } }>;
    };
    settings = { scrapeIntervalMs: durationMs(ds.datasources[0].jsonData.timeInterval), maxDataPoints: 1000 };

    db = await createTestDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-grafana-'));
    const namespace = testNamespace();
    const [collectorPort, tracingPort, fleetPort] = [
      await freePort(),
      await freePort(),
      await freePortRange(NODES * 2),
    ];
    collectorUrl = `http://127.0.0.1:${collectorPort}`;
    tracingUrl = `http://127.0.0.1:${tracingPort}`;
    const common = {
      DATABASE_URL: db.url,
      NATS_URL: 'nats://127.0.0.1:4222',
      NATS_NAMESPACE: namespace,
      ...TEST_AUTH_ENV,
    };

    // History: the same simulated fleet, run offline over the nine minutes before now, with its
    // node down from minute 2 to 6: requests fail in every one of those minutes, so the error
    // counters (published only for minutes that had errors) have the samples a rate needs.
    const historyFile = path.join(dir, 'history.jsonl');
    // It ends 30 s ago, so its last minute closes (and is published) within a minute.
    const historyStartMs = Date.now() - (HISTORY_S + 30) * 1000;
    const historyStart = new Date(historyStartMs).toISOString();
    const history = startProcess(
      'fleet-sim-history',
      'tools/fleet-sim/src/main.ts',
      [
        '--nodes',
        '1',
        '--gpus',
        String(GPUS),
        '--outage',
        '0:120:240',
        '--simulate',
        String(HISTORY_S),
        '--start',
        historyStart,
        '--events-out',
        historyFile,
      ],
      {},
    );

    const tracing = startProcess('tracing', 'services/tracing/src/main.ts', [], {
      ...common,
      TRACING_PORT: String(tracingPort),
      TRACING_HOST: '127.0.0.1',
      TRACING_API_KEY_SALT: 'grafana-e2e-salt-0123456789',
      TRACING_COMPLETION_GRACE_MS: '500',
      TRACING_STATS_LATENESS_MS: '1000',
    });
    procs.push(tracing);

    const fleetConfig = path.join(dir, 'fleet.yml');
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
        fleetConfig,
        '--tracing-url',
        tracingUrl,
      ],
      { ARCWATCH_INGEST_TOKEN: TEST_INGEST_TOKEN },
    );
    procs.push(fleet);
    // The fleet's scrape config plus ArcWatch's own /metrics, as the README asks of a deployment.
    // Read once it is complete: the file may exist a moment before its contents are written.
    const config = await eventually(
      () => {
        if (!fs.existsSync(fleetConfig)) return undefined;
        const parsed = parseYaml(fs.readFileSync(fleetConfig, 'utf8')) as { scrape_configs?: unknown[] } | null;
        return Array.isArray(parsed?.scrape_configs) ? { ...parsed, scrape_configs: parsed.scrape_configs } : undefined;
      },
      30_000,
      `fleet scrape config\n${fleet.log()}`,
    );
    config.scrape_configs.push(
      {
        job_name: 'arcwatch-collector',
        scrape_interval: '1s',
        authorization: { credentials: TEST_ADMIN_TOKEN },
        static_configs: [{ targets: [`127.0.0.1:${collectorPort}`] }],
      },
      {
        job_name: 'arcwatch-tracing',
        scrape_interval: '1s',
        authorization: { credentials: TEST_ADMIN_TOKEN },
        static_configs: [{ targets: [`127.0.0.1:${tracingPort}`] }],
      },
    );
    const scrapeConfig = path.join(dir, 'collector.yml');
    fs.writeFileSync(scrapeConfig, toYaml(config));
    const collector = startProcess('collector', 'services/collector/src/main.ts', [], {
      ...common,
      COLLECTOR_PORT: String(collectorPort),
      COLLECTOR_HOST: '127.0.0.1',
      COLLECTOR_CONFIG: scrapeConfig,
    });
    procs.push(collector);

    await eventually(
      async () => ((await fetch(`${tracingUrl}/readyz`).catch(() => null))?.ok ? true : undefined),
      60_000,
      `tracing ready\n${tracing.log()}`,
    );
    const done = await history.exited;
    if (done.code !== 0) throw new Error(`fleet-sim --simulate exited ${done.code}\n${history.log()}`);
    const events = fs
      .readFileSync(historyFile, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as { kind: RequestEventKind; time: string });
    // A minute is keyed by its requests' ends, and the requests still running when the history
    // stops end only when abandoned (minutes later): the last minute published from the history is
    // the one of its last end, which can be the minute before the history's own end (a run whose
    // history ended in a minute's first seconds waited in vain for that minute).
    const lastEndMs = Math.max(...events.filter((e) => isTerminalKind(e.kind)).map((e) => Date.parse(e.time)));
    historyLastMinuteEndMs = (Math.floor(lastEndMs / 60_000) + 1) * 60_000;
    for (let i = 0; i < events.length; i += REQUEST_EVENT_BATCH_MAX) {
      const res = await authFetch(`${tracingUrl}/api/v1/requests/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events: events.slice(i, i + REQUEST_EVENT_BATCH_MAX) }),
      });
      if (!res.ok) throw new Error(`history batch: HTTP ${res.status} ${await res.text()}`);
    }
    await eventually(
      async () => ((await fetch(`${collectorUrl}/readyz`).catch(() => null))?.ok ? true : undefined),
      60_000,
      `collector ready\n${collector.log()}`,
    );
  }, 150_000);

  afterAll(async () => {
    for (const p of procs.reverse()) await p.stop();
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const api = async (route: string, params: Record<string, string | string[]>): Promise<PromResponse> => {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
    // Grafana's default HTTP method for this data source is POST (provisioning/datasources).
    const res = route.startsWith('/api/v1/label/')
      ? await authFetch(`${collectorUrl}${route}?${body.toString()}`)
      : await authFetch(`${collectorUrl}${route}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
    const json = (await res.json()) as PromResponse;
    if (!res.ok || json.status !== 'success')
      return { status: 'error', error: `HTTP ${res.status}: ${json.error ?? JSON.stringify(json)}` };
    return json;
  };

  /**
   * Resolves the dashboard's variables in order: each to the first value its query returns, or to
   * "All" (its allValue), which is what Grafana selects when a dashboard opens. Either way the
   * variable's own query must return values.
   */
  const resolveVariables = async (
    d: Dashboard,
    range: TimeRange,
    problems: string[],
    selection: Selection,
  ): Promise<Record<string, string> | null> => {
    const values: Record<string, string> = {};
    for (const v of d.templating.list) {
      const query = variableQuery(v);
      if (v.type !== 'query' || !query) continue;
      const lv = parseLabelValues(query);
      const match = lv.match ? substitute(lv.match, { variables: values, range }) : undefined;
      const res = await api(`/api/v1/label/${lv.label}/values`, {
        ...(match ? { 'match[]': match } : {}),
        start: String(range.startMs / 1000),
        end: String(range.endMs / 1000),
      });
      const list = Array.isArray(res.data) ? res.data : [];
      if (res.status !== 'success' || list.length === 0) {
        problems.push(`${d.title} / variable $${v.name}: ${query} → ${res.error ?? 'no values'}`);
        return null;
      }
      if (selection === 'all' && v.includeAll && v.allValue !== undefined) values[v.name] = v.allValue;
      else values[v.name] = v.multi || v.includeAll ? regexEscape(list[0]) : list[0];
    }
    return values;
  };

  /** A panel query as Grafana sends it: variables, intervals and range put in. */
  const grafanaExpr = (q: PanelQuery, variables: Record<string, string>, range: TimeRange) => {
    const iv = intervals(q, range, settings);
    return {
      expr: substitute(q.expr, { variables, range, intervalMs: iv.intervalMs, rateIntervalMs: iv.rateIntervalMs }),
      stepMs: iv.stepMs,
    };
  };

  interface Call {
    where: string;
    route: string;
    params: Record<string, string>;
  }

  /** Every query of every dashboard, with its variables at their first values and at "All". */
  const buildCalls = async (range: TimeRange, problems: string[]): Promise<Call[]> => {
    const calls: Call[] = [];
    const at = (ms: number) => String(ms / 1000);
    for (const { dashboard } of loadDashboards()) {
      for (const selection of ['first', 'all'] as const) {
        const variables = await resolveVariables(dashboard, range, problems, selection);
        if (!variables) continue;
        for (const q of panelQueries(dashboard)) {
          const { expr, stepMs } = grafanaExpr(q, variables, range);
          const where = `${q.dashboard} / ${q.panel} / ${q.refId}: ${expr}`;
          const instant = { where, route: '/api/v1/query', params: { query: expr, time: at(range.endMs) } };
          // With every variable at "All" the instant query at the range's end is enough to catch
          // an error or an empty answer; the full range runs with the first values.
          if (selection === 'all') {
            calls.push(instant);
            continue;
          }
          const step = at(stepMs);
          calls.push({
            where,
            route: '/api/v1/query_range',
            params: { query: expr, start: at(range.startMs), end: at(range.endMs), step },
          });
          if (q.instant) calls.push(instant);
        }
      }
    }
    return calls;
  };

  /** Runs every query of every dashboard once, four at a time; returns the problems. */
  const runAll = async () => {
    const endMs = Math.floor(Date.now() / 1000) * 1000;
    const range = { startMs: endMs - RANGE_MS, endMs };
    const problems: string[] = [];
    const calls = await buildCalls(range, problems);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < calls.length; i = next++) {
        const { where, route, params } = calls[i];
        const res = await api(route, params);
        const result = res.data && !Array.isArray(res.data) ? res.data.result : [];
        if (res.status !== 'success') problems.push(`${where} (${route}) → ${res.error}`);
        else if (result.length === 0) problems.push(`${where} (${route}) → empty result`);
        // Grafana draws nothing for NaN: a panel whose every point is NaN shows no data either.
        else if (!result.some(hasFiniteValue)) problems.push(`${where} (${route}) → only NaN or infinite values`);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    return { problems: problems.sort(), ran: calls.length };
  };

  /**
   * The data is there before the dashboards are judged, waited for once by whichever test runs
   * first: tracing has published the history's last minute (closed minutes are published oldest
   * first, so the history's are all stored unless a live minute closed before the history was
   * posted; the tests' retries cover that) and the services' own metrics are scraped.
   */
  let dataReady: Promise<void> | undefined;
  const waitForData = () =>
    (dataReady ??= (async () => {
      const ready = async (expr: string) => {
        const res = await api('/api/v1/query', { query: expr });
        return res.data && !Array.isArray(res.data) && res.data.result.length > 0 ? true : undefined;
      };
      await eventually(
        () => ready(`max(timestamp(arcwatch_requests_total)) >= ${historyLastMinuteEndMs / 1000}`),
        120_000,
        'the last minute of the simulated history stored',
      );
      await eventually(() => ready('arcwatch_tracing_open_requests'), 30_000, "tracing's own metrics scraped");
    })());

  it('answers every panel query and template variable of every dashboard with data', async () => {
    await waitForData();

    let last = { problems: ['not run'], ran: 0 };
    // Rates need two scrapes, and a rate at the range's end needs tracing's first live minutes:
    // retry the whole set for up to a minute (one minute closes in that time), then report what
    // still fails.
    await eventually(
      async () => {
        last = await runAll().catch((err: unknown) => ({ problems: [String(err)], ran: 0 }));
        return last.problems.length === 0 ? last : undefined;
      },
      60_000,
      'every dashboard query answered',
    ).catch(() => undefined);
    expect(last.problems).toEqual([]);
    expect(last.ran).toBeGreaterThan(180);
  }, 240_000);

  it('shows exemplars where a panel asks for them, each a link that opens its request', async () => {
    await waitForData();
    // The link as provisioned; Grafana reads `$$` as a literal `$`, then puts the exemplar
    // label's value in for ${__value.raw}.
    const ds = parseYaml(fs.readFileSync(path.join(GRAFANA_DIR, 'provisioning/datasources/arcwatch.yaml'), 'utf8')) as {
      datasources: Array<{ jsonData: { exemplarTraceIdDestinations?: Array<{ name: string; url?: string }> } }>;
    };
    const destinations = ds.datasources[0].jsonData.exemplarTraceIdDestinations ?? [];
    expect(destinations.map((d) => d.name)).toEqual(['request_id']);
    const link = (value: string) => (destinations[0].url ?? '').replaceAll('$$', '$').replace('${__value.raw}', value);

    /** Every exemplar query of every dashboard, as Grafana sends it over the last RANGE_MS. */
    const askAll = async () => {
      const endMs = Math.floor(Date.now() / 1000) * 1000;
      const range = { startMs: endMs - RANGE_MS, endMs };
      const problems: string[] = [];
      const asked: string[] = [];
      const ids = new Set<string>();
      for (const { dashboard } of loadDashboards()) {
        const queries = panelQueries(dashboard).filter((x) => x.exemplar);
        if (queries.length === 0) continue;
        const variables = await resolveVariables(dashboard, range, problems, 'first');
        if (!variables) continue;
        for (const q of queries) {
          const { expr } = grafanaExpr(q, variables, range);
          asked.push(`${q.dashboard} / ${q.panel}`);
          const res = await api('/api/v1/query_exemplars', {
            query: expr,
            start: String(range.startMs / 1000),
            end: String(range.endMs / 1000),
          });
          const found = z
            .array(z.object({ exemplars: z.array(z.object({ labels: z.record(z.string(), z.string()) })) }))
            .safeParse(res.data);
          const exemplars = found.success ? found.data.flatMap((x) => x.exemplars) : [];
          if (res.status !== 'success' || exemplars.length === 0)
            problems.push(`${q.dashboard} / ${q.panel}: ${expr} → ${res.error ?? 'no exemplars'}`);
          for (const e of exemplars) {
            if (e.labels.request_id) ids.add(e.labels.request_id);
            else
              problems.push(`${q.dashboard} / ${q.panel}: an exemplar without request_id: ${JSON.stringify(e.labels)}`);
          }
        }
      }
      return { problems, asked, ids };
    };
    let last: Awaited<ReturnType<typeof askAll>> = { problems: ['not run'], asked: [], ids: new Set() };
    await eventually(
      async () => {
        last = await askAll();
        return last.problems.length === 0 ? last : undefined;
      },
      60_000,
      'exemplars on every panel that asks for them',
    ).catch(() => undefined);
    const { problems, asked, ids } = last;
    expect(problems).toEqual([]);
    expect(asked.length).toBeGreaterThanOrEqual(2);
    expect(ids.size).toBeGreaterThan(0);
    // Each link names the console's request view and a request that tracing has.
    for (const id of ids) {
      const url = new URL(link(id));
      expect([url.searchParams.get('view'), url.searchParams.get('id')]).toEqual(['request', id]);
      const res = await authFetch(`${tracingUrl}/api/v1/requests/${encodeURIComponent(id)}`);
      expect([id, res.status]).toEqual([id, 200]);
      expect(((await res.json()) as { requestId?: string }).requestId).toBe(id);
    }
  }, 60_000);
});
