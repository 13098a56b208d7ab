/**
 * Range-query benchmark: 6 h of the 1,000-GPU reference fleet (../shared/bench/fleet.mjs) at a
 * 15 s step, loaded into a fresh SampleStore (importHistory: straight into chunks), into
 * VictoriaMetrics (/api/v1/import) and into Prometheus (promtool blocks); then the two reference
 * queries as 6 h range queries at a 15 s step, median of N warm runs on each. Every system is
 * timed the same way, as Grafana sees it: its own process, `GET /api/v1/query_range` over HTTP
 * until the body is read. ArcWatch is the collector (services/collector/src/main.ts) over the
 * loaded schema; VictoriaMetrics runs with `-search.disableCache` (no rollup result cache). The
 * in-process rows after that split ArcWatch's time (engine + JSON, the same without the
 * decoded-chunk cache, the storage select alone).
 *
 *   npm run bench:query -- [--hours 6] [--nodes 125] [--runs 5] [--competitors vm,prom|none] [--no-docs]
 *                          [--profile-only] [--collector-cpu-prof DIR]
 *
 * The default full run takes about 10 minutes and rewrites the generated block of the `## Query`
 * section of docs/benchmarks.md (`--no-docs` leaves it alone). `--profile-only` loads and runs
 * only ArcWatch's queries in process (for `node --cpu-prof`); `--collector-cpu-prof DIR` runs the
 * collector process under `--cpu-prof` and leaves its profile in DIR.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PromqlEngine, responseJson } from '@arcwatch/promql';
import { SampleStore, createPool, migrate, sampleStoreMigrations } from '@arcwatch/storage';
import { REPO_ROOT, authHeaders, createTestDatabase } from '@arcwatch/testing';
import { FLEET_SCRIPT, generateHistory } from './fleet-history';
import {
  httpGet,
  rangeQueryUrl,
  runCommand,
  startPrometheus,
  startVictoriaMetrics,
  type RunningServer,
} from './competitors';
import { compareMatrices, fmt, machine, median, writeQuerySection } from './query-report';
import { benchArgs } from './support/args';
import { loadHistory, startQueryCollector, timeRuns } from './support/query-runs';

const args = benchArgs();
const HOURS = Number(args.get('hours') ?? 6);
const NODES = Number(args.get('nodes') ?? 125);
const RUNS = Number(args.get('runs') ?? 5);
const PROFILE_ONLY = args.has('profile-only');
const COMPETITORS = PROFILE_ONLY
  ? []
  : (args.get('competitors') ?? 'vm,prom').split(',').filter((c) => c === 'vm' || c === 'prom');
const WRITE_DOCS = !args.has('no-docs') && !PROFILE_ONLY;
const COLLECTOR_PROF = args.get('collector-cpu-prof');
const STEP_SEC = 15;
const IMPORT_GROUP = 2500;

const QUERIES = [
  { id: 'q1', expr: 'avg by (Hostname)(DCGM_FI_DEV_GPU_UTIL)', metric: 'DCGM_FI_DEV_GPU_UTIL', lookBackMs: 5 * 60_000 },
  {
    id: 'q2',
    expr: 'histogram_quantile(0.99, sum by (le, model_name)(rate(vllm:time_to_first_token_seconds_bucket[5m])))',
    metric: 'vllm:time_to_first_token_seconds_bucket',
    lookBackMs: 5 * 60_000,
  },
] as const;

const log = (msg: string): void => void process.stdout.write(`${msg}\n`);

interface Row {
  system: string;
  q1: number;
  q2: number;
  note: string;
}

async function main(): Promise<void> {
  const endMs = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'arcwatch-query-bench-'));
  const db = await createTestDatabase();
  const pool = createPool(db.url, { max: 4 });
  const servers: RunningServer[] = [];
  try {
    let t0 = performance.now();
    const h = await generateHistory({ nodes: NODES, hours: HOURS, stepSec: STEP_SEC, endMs });
    const total = h.labels.length * h.steps;
    log(
      `workload: ${NODES} nodes, ${fmt(h.labels.length)} series × ${fmt(h.steps)} scrapes = ${fmt(total)} samples (generated in ${fmt(performance.now() - t0)} ms)`,
    );

    // Competitor input files are written by fleet.mjs itself (same seed and end time → same data),
    // in the background while ArcWatch loads; the queries are timed only after every load is done.
    const common = [
      '--nodes',
      String(NODES),
      '--hours',
      String(HOURS),
      '--step',
      String(STEP_SEC),
      '--end-ms',
      String(endMs),
    ];
    const vmjson = path.join(tmp, 'fleet.vmjson');
    const om = path.join(tmp, 'fleet.om');
    const files = Promise.all([
      COMPETITORS.includes('vm')
        ? runCommand(process.execPath, [FLEET_SCRIPT, 'vmjson', ...common, '--out', vmjson])
        : undefined,
      COMPETITORS.includes('prom')
        ? runCommand(process.execPath, [FLEET_SCRIPT, 'om', ...common, '--out', om])
        : undefined,
    ]);
    files.catch(() => undefined);

    await migrate(pool, { schema: 'bench', migrations: sampleStoreMigrations('bench') });
    const store = new SampleStore(pool, { schema: 'bench' });
    const load = await loadHistory(store, h, IMPORT_GROUP);
    const stats = await store.stats();
    log(
      `ArcWatch load (importHistory): ${fmt(load.samples)} samples, ${fmt(load.chunks)} chunk rows in ${fmt(load.ms / 1000, 1)} s = ${fmt(load.samples / (load.ms / 1000))} samples/s; ${fmt(stats.bytes / load.samples, 2)} B/sample on disk`,
    );

    let loadNotes = `ArcWatch importHistory ${fmt(load.samples / (load.ms / 1000) / 1000)} k samples/s (competitor files were being generated on the same cores)`;
    t0 = performance.now();
    await files;
    log(`fleet.mjs vmjson/om files written (${fmt((performance.now() - t0) / 1000, 1)} s after the ArcWatch load)`);
    const lastSec = endMs / 1000;
    if (COMPETITORS.includes('vm')) {
      t0 = performance.now();
      servers.push(
        await startVictoriaMetrics(tmp, vmjson, { series: h.labels.length, lastSec }, ['-search.disableCache']),
      );
      rmSync(vmjson);
      loadNotes += `; VictoriaMetrics import until queryable ${fmt((performance.now() - t0) / 1000, 1)} s`;
      log(`VictoriaMetrics loaded in ${fmt((performance.now() - t0) / 1000, 1)} s`);
    }
    if (COMPETITORS.includes('prom')) {
      t0 = performance.now();
      servers.push(await startPrometheus(tmp, om));
      rmSync(om);
      loadNotes += `; promtool blocks + Prometheus start ${fmt((performance.now() - t0) / 1000, 1)} s`;
      log(`Prometheus blocks built and served in ${fmt((performance.now() - t0) / 1000, 1)} s`);
    }

    const startMs = endMs - HOURS * 3_600_000;
    const collector = PROFILE_ONLY
      ? undefined
      : await startQueryCollector(
          db.url,
          'bench',
          COLLECTOR_PROF ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.resolve(COLLECTOR_PROF)}` } : {},
        );
    const host = machine();
    log(`machine: ${host}`);
    const rows: Row[] = [];
    const checks: string[] = [];
    // the collector's own spans per query (its Server-Timing header), median of the timed runs
    const spans: Record<string, string> = {};
    const timeHttp = async (
      name: string,
      baseUrl: string,
      headers?: Record<string, string>,
      logOf?: () => string,
    ): Promise<{ ms: Record<string, number>; bodies: Record<string, string> }> => {
      const ms: Record<string, number> = {};
      const bodies: Record<string, string> = {};
      for (const q of QUERIES) {
        const timings: string[] = [];
        const r = await timeRuns(RUNS, async () => {
          const { status, body, serverTiming } = await httpGet(
            rangeQueryUrl(baseUrl, q.expr, startMs / 1000, endMs / 1000, STEP_SEC),
            headers,
          );
          if (serverTiming) timings.push(serverTiming);
          if (status !== 200)
            throw new Error(
              `${name} answered ${status}: ${body.slice(0, 300)}${logOf ? `\n${name}'s log:\n${logOf().slice(-4000)}` : ''}`,
            );
          return body;
        });
        ms[q.id] = r.median;
        bodies[q.id] = r.body;
        log(`${name} ${q.id}: median ${fmt(r.median)} ms (runs ${r.runs.map((x) => fmt(x)).join(', ')})`);
        // the warm-up's spans left out, like its time
        if (timings.length > 1) spans[q.id] = medianSpans(timings.slice(1));
      }
      return { ms, bodies };
    };

    // Over HTTP first, each server alone on the cores (the others idle), in the same order every run.
    let http: Awaited<ReturnType<typeof timeHttp>> | undefined;
    try {
      if (collector) {
        http = await timeHttp('ArcWatch collector', collector.baseUrl, authHeaders(), () => collector.proc.log());
        rows.push({
          system: 'ArcWatch collector',
          q1: http.ms.q1!,
          q2: http.ms.q2!,
          note: `HTTP, its own process (default settings: decoded-chunk cache on, warmed by the first run)${spanNote(spans)}`,
        });
      }
    } finally {
      await collector?.proc.stop();
      if (COLLECTOR_PROF) log(`collector CPU profile written to ${path.resolve(COLLECTOR_PROF)}`);
    }
    const competitorBodies: Array<{ name: string; bodies: Record<string, string> }> = [];
    const competitorRows: Row[] = [];
    for (const s of servers) {
      const r = await timeHttp(s.name, s.baseUrl);
      competitorBodies.push({ name: s.name, bodies: r.bodies });
      competitorRows.push({
        system: s.name,
        q1: r.ms.q1!,
        q2: r.ms.q2!,
        note: s.name.startsWith('Victoria') ? 'HTTP, `-search.disableCache` (no rollup result cache)' : 'HTTP',
      });
    }

    // In process: where ArcWatch's time goes (engine + JSON, then without the chunk cache, then the select alone).
    const engine = new PromqlEngine(store);
    // the same data read without the decoded-chunk cache: every run fetches and decodes its chunks
    const uncachedStore = new SampleStore(pool, { schema: 'bench', chunkCacheBytes: 0 });
    const uncached = new PromqlEngine(uncachedStore);
    const ours: Record<string, string> = {};
    const timed: Record<string, number> = {};
    const timedUncached: Record<string, number> = {};
    const selectOnly: Record<string, number> = {};
    for (const q of QUERIES) {
      // the collector's steps: evaluation, then the response body as responseJson writes it
      const r = await timeRuns(RUNS, async () =>
        responseJson(await engine.evaluateRange(q.expr, startMs, endMs, STEP_SEC * 1000)),
      );
      ours[q.id] = r.body;
      timed[q.id] = r.median;
      log(`ArcWatch in process ${q.id}: median ${fmt(r.median)} ms (runs ${r.runs.map((x) => fmt(x)).join(', ')})`);
      if (http) {
        const c = compareMatrices(http.bodies[q.id]!, r.body);
        if (c.series[0] !== c.series[1] || c.points[0] !== c.points[1] || c.maxRelDiff !== 0)
          throw new Error(`${q.id}: the collector's answer over HTTP differs from the engine's in process`);
        checks.push(`${q.id}: the collector over HTTP and the engine in process give the same matrix`);
      }
      const u = await timeRuns(RUNS, async () =>
        responseJson(await uncached.evaluateRange(q.expr, startMs, endMs, STEP_SEC * 1000)),
      );
      if (u.body !== r.body) throw new Error(`${q.id}: the answer with the chunk cache differs from the one without`);
      timedUncached[q.id] = u.median;
      log(
        `ArcWatch in process ${q.id} without the chunk cache: median ${fmt(u.median)} ms (runs ${u.runs.map((x) => fmt(x)).join(', ')})`,
      );
      // the storage part alone: the one select the engine makes for the query's selector, uncached
      const sel = await timeRuns(RUNS, async () =>
        String(
          (
            await uncachedStore.select(
              [{ name: '__name__', type: '=', value: q.metric }],
              startMs - q.lookBackMs,
              endMs,
            )
          ).length,
        ),
      );
      selectOnly[q.id] = sel.median;
      log(`ArcWatch ${q.id} select alone (${sel.body} series): median ${fmt(sel.median)} ms`);
    }
    rows.push({
      system: '… ArcWatch in process',
      q1: timed.q1!,
      q2: timed.q2!,
      note: "`PromqlEngine.evaluateRange` + `responseJson` (the collector's steps), no HTTP; decoded-chunk cache warm",
    });
    rows.push({
      system: '… the same, chunk cache off',
      q1: timedUncached.q1!,
      q2: timedUncached.q2!,
      note: 'every run fetching and decoding its chunks',
    });
    rows.push({
      system: '… of which `SampleStore.select`',
      q1: selectOnly.q1!,
      q2: selectOnly.q2!,
      note: 'chunk cache off: catalog match, chunk fetch, decode',
    });
    for (const c of competitorBodies) {
      for (const q of QUERIES) {
        const m = compareMatrices(http?.bodies[q.id] ?? ours[q.id]!, c.bodies[q.id]!);
        checks.push(
          `${q.id} vs ${c.name}: ${m.series[0]} / ${m.series[1]} series, ${fmt(m.points[0])} / ${fmt(m.points[1])} points, largest relative difference ${m.maxRelDiff.toExponential(1)}`,
        );
      }
    }
    for (const c of checks) log(`check: ${c}`);
    const loadAfter = os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ');

    const table = [
      '| system | q1 `avg by (Hostname)` | q2 `histogram_quantile(0.99, … rate(…[5m]))` | how |',
      '| --- | ---: | ---: | --- |',
      ...[...rows, ...competitorRows].map((r) => `| ${r.system} | ${fmt(r.q1)} ms | ${fmt(r.q2)} ms | ${r.note} |`),
    ].join('\n');
    log(`\n${table}\n`);
    if (WRITE_DOCS) {
      const generated = [
        `Last run ${new Date().toISOString().slice(0, 16)}Z: ${NODES} nodes, ${HOURS} h at ${STEP_SEC} s = ${fmt(total)} samples in ${fmt(h.labels.length)} series; ` +
          `range ${HOURS} h, step ${STEP_SEC} s; median of ${RUNS} warm runs after one warm-up.`,
        '',
        `Machine: ${host}; at the end: ${loadAfter}.`,
        '',
        table,
        '',
        `Loads: ${loadNotes}.`,
        '',
        'Same answers: ' + checks.join('; ') + '.',
      ].join('\n');
      writeQuerySection(path.join(REPO_ROOT, 'docs', 'benchmarks.md'), generated);
      log('docs/benchmarks.md updated');
    }
  } finally {
    for (const s of servers) await s.stop();
    await pool.end();
    await db.drop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Per span name, the median of its `dur` over the Server-Timing headers (ms). */
function medianSpans(headers: readonly string[]): string {
  const byName = new Map<string, number[]>();
  for (const h of headers)
    for (const part of h.split(',')) {
      const [name, dur] = part.trim().split(';dur=');
      if (name && dur !== undefined) byName.set(name, [...(byName.get(name) ?? []), Number(dur)]);
    }
  return [...byName].map(([name, durs]) => `${name} ${fmt(median(durs))}`).join(', ');
}

function spanNote(spans: Record<string, string>): string {
  const parts = QUERIES.filter((q) => spans[q.id]).map((q) => `${q.id} ${spans[q.id]}`);
  return parts.length > 0 ? `; its spans (Server-Timing, ms, medians): ${parts.join('; ')}` : '';
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
