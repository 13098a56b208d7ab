/**
 * Ingest benchmark: the 1,000-GPU reference fleet (../shared/bench/fleet.mjs) end to end.
 *
 *   npm run bench:ingest -- [--scrapes 20] [--nodes 125] [--concurrency 32] [--writer-batch N]
 *                           [--systems arcwatch,vm] [--layouts all,split] [--cpu-prof DIR] [--no-docs]
 *
 * (a) parse speed of the fleet's exposition with @arcwatch/exposition;
 * (b) the collector as its own process (role all, a fresh database, a unique NATS namespace) and,
 *     with layout `split`, as a scraper process (the pushes) beside a writer process (storage,
 *     queries), as one would deploy it to use more than one core:
 *     the 125 per-node expositions of K consecutive scrapes (distinct timestamps per scrape) are
 *     pushed to POST /api/v1/import/prometheus, `concurrency` requests in flight, and the clock
 *     stops when the query API answers for every sample; CPU per sample from /proc for the
 *     collector process(es), the PostgreSQL backends of its database and nats-server;
 * (c) VictoriaMetrics with the same pushes and the same queryable check.
 * The default (20 scrapes, 550,000 samples) takes 2–4 minutes and rewrites the generated block
 * of the `## Ingest` section of docs/benchmarks.md.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabelCache, parseExposition } from '@arcwatch/exposition';
import { createPool } from '@arcwatch/storage';
import { REPO_ROOT, createTestDatabase, startCpuMeter, uniqueToken } from '@arcwatch/testing';
import { buildWorkload, STEP_MS, type IngestWorkload } from './support/fleet-pushes';
import {
  instantValue,
  pushAll,
  startCollectorProcess,
  startVictoriaMetrics,
  type CollectorLayout,
} from './support/ingest-systems';
import {
  describeMachine,
  fmt,
  machineInfo,
  median,
  parseTable,
  systemsTable,
  writeIngestSection,
  type ParseResultRow,
  type SystemResult,
} from './support/ingest-report';
import { benchArgs } from './support/args';

const args = benchArgs();
const SCRAPES = Number(args.get('scrapes') ?? 20);
const NODES = Number(args.get('nodes') ?? 125);
const CONCURRENCY = Number(args.get('concurrency') ?? 32);
const WRITER_BATCH = args.has('writer-batch') ? Number(args.get('writer-batch')) : undefined;
const SYSTEMS = (args.get('systems') ?? 'arcwatch,vm').split(',');
const LAYOUTS = (args.get('layouts') ?? 'all,split')
  .split(',')
  .filter((l): l is CollectorLayout => l === 'all' || l === 'split');
const CPU_PROFILE_DIR = args.get('cpu-prof');
const WRITE_DOCS = !args.has('no-docs') && CPU_PROFILE_DIR === undefined;
/** Timed parses after PARSE_WARMUP untimed ones (the JIT settles over the first few). */
const PARSE_RUNS = 15;
const PARSE_WARMUP = 5;
const QUERYABLE_TIMEOUT_MS = 600_000;

const log = (msg: string): void => void process.stdout.write(`${msg}\n`);

function measureParse(w: IngestWorkload): ParseResultRow[] {
  const fleetBytes = Buffer.byteLength(w.fleetText);
  const oneScrape = w.pushes.filter((p) => p.scrape === 0);
  const nodeBytes = oneScrape.reduce((n, p) => n + Buffer.byteLength(p.body), 0);
  const time = (fn: () => number, expected: number): number => {
    const runs: number[] = [];
    for (let i = 0; i < PARSE_WARMUP + PARSE_RUNS; i++) {
      const t0 = performance.now();
      const got = fn();
      const ms = performance.now() - t0;
      if (got !== expected) throw new Error(`parse returned ${got} samples, expected ${expected}`);
      if (i >= PARSE_WARMUP) runs.push(ms);
    }
    return median(runs);
  };
  // As the collector parses: label caches kept across parses (it keeps one per scrape target; pushes share one).
  const fleetCache = new LabelCache();
  const nodeCaches = oneScrape.map(() => new LabelCache());
  return [
    {
      what: 'whole fleet, one text (with `instance`)',
      samples: w.samplesPerScrape,
      bytes: fleetBytes,
      medianMs: time(() => parseExposition(w.fleetText, { labelCache: fleetCache }).samples.length, w.samplesPerScrape),
    },
    {
      what: `${w.nodes} per-node texts with timestamps (one scrape)`,
      samples: w.samplesPerScrape,
      bytes: nodeBytes,
      medianMs: time(
        () =>
          oneScrape.reduce((n, p, k) => n + parseExposition(p.body, { labelCache: nodeCaches[k] }).samples.length, 0),
        w.samplesPerScrape,
      ),
    },
  ];
}

const expectedSamples = (w: IngestWorkload) => w.samplesPerScrape * w.scrapes;
const gpus = (w: IngestWorkload) => w.nodes * 8;
const lastSec = (w: IngestWorkload) => w.lastTimestampMs / 1000;
/** Every sample of the run, counted by the query API at the last scrape's time. */
const totalExpr = (w: IngestWorkload) => `sum(count_over_time({__name__=~".+"}[${(w.scrapes * STEP_MS) / 1000}s]))`;

async function until(probe: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + QUERYABLE_TIMEOUT_MS;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${QUERYABLE_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function runArcWatch(w: IngestWorkload, logDir: string, layout: CollectorLayout): Promise<SystemResult> {
  const db = await createTestDatabase();
  const admin = createPool(db.url, { max: 2 });
  admin.on('error', () => undefined); // the database is dropped with FORCE at the end
  const collector = await startCollectorProcess({
    layout,
    databaseUrl: db.url,
    namespace: uniqueToken('bench'),
    writerBatch: WRITER_BATCH ?? 32,
    logDir,
    ...(CPU_PROFILE_DIR ? { cpuProfileDir: CPU_PROFILE_DIR } : {}),
  });
  try {
    const meter = await startCpuMeter(collector.pids, { admin, database: db.name });
    const t0 = performance.now();
    await pushAll(collector.baseUrl, w.pushes, CONCURRENCY);
    const pushed = performance.now();
    // Durable first (cheap, in SQL), then what the query API answers.
    await until(async () => {
      const { rows } = await admin.query<{ n: string | null }>('SELECT sum(samples) AS n FROM collector.head');
      return Number(rows[0]?.n ?? 0) >= expectedSamples(w);
    }, 'ArcWatch: rows committed');
    await until(
      async () => (await instantValue(collector.queryUrl, 'count(DCGM_FI_DEV_GPU_UTIL)', lastSec(w))) === gpus(w),
      'ArcWatch: last scrape queryable',
    );
    const total = await instantValue(collector.queryUrl, totalExpr(w), lastSec(w));
    const done = performance.now();
    const cpu = await meter.stop();
    if (total !== expectedSamples(w))
      throw new Error(`ArcWatch: the query API counts ${total} samples, expected ${expectedSamples(w)}`);
    const { rows } = await admin.query<{ n: string; b: string }>(
      'SELECT sum(samples) AS n, count(*) AS b FROM collector.head',
    );
    return {
      name: collector.name,
      samples: expectedSamples(w),
      pushSeconds: (pushed - t0) / 1000,
      queryableSeconds: (done - t0) / 1000,
      ...cpu,
      checks: `API: count(DCGM_FI_DEV_GPU_UTIL) = ${gpus(w)}, total ${fmt(total)}; SQL: ${fmt(Number(rows[0]!.n))} samples in ${fmt(Number(rows[0]!.b))} head rows`,
    };
  } finally {
    await collector.stop();
    await admin.end();
    await db.drop();
  }
}

async function runVictoriaMetrics(w: IngestWorkload, dir: string): Promise<SystemResult> {
  const vm = await startVictoriaMetrics(path.join(dir, 'vm-data'), dir);
  try {
    const meter = await startCpuMeter(vm.pids);
    const t0 = performance.now();
    await pushAll(vm.baseUrl, w.pushes, CONCURRENCY);
    const pushed = performance.now();
    let total = 0;
    await until(async () => {
      // Without it, freshly ingested rows sit in VictoriaMetrics' in-memory buffers for up to a second or two.
      await fetch(`${vm.baseUrl}/internal/force_flush`).catch(() => undefined);
      if ((await instantValue(vm.baseUrl, 'count(DCGM_FI_DEV_GPU_UTIL)', lastSec(w))) !== gpus(w)) return false;
      total = await instantValue(vm.baseUrl, totalExpr(w), lastSec(w));
      return total === expectedSamples(w);
    }, 'VictoriaMetrics: every sample queryable');
    const done = performance.now();
    const cpu = await meter.stop();
    return {
      name: 'VictoriaMetrics 1.79',
      samples: expectedSamples(w),
      pushSeconds: (pushed - t0) / 1000,
      queryableSeconds: (done - t0) / 1000,
      ...cpu,
      checks: `API: count(DCGM_FI_DEV_GPU_UTIL) = ${gpus(w)}, total ${fmt(total)}`,
    };
  } finally {
    await vm.stop();
  }
}

async function main(): Promise<void> {
  if (Number(process.versions.node.split('.')[0]) < 24)
    throw new Error(`Node 24 expected (got ${process.version}): run node_modules/.bin/node or npm run bench:ingest`);
  const machine = machineInfo();
  log(`machine: ${describeMachine(machine)}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'arcwatch-ingest-'));
  if (CPU_PROFILE_DIR) mkdirSync(CPU_PROFILE_DIR, { recursive: true });
  try {
    // Timestamps end a minute ago: in the past for both systems, and well inside retention.
    const lastTimestampMs = Math.floor(Date.now() / STEP_MS) * STEP_MS - 60_000;
    const w = await buildWorkload({ nodes: NODES, scrapes: SCRAPES, lastTimestampMs });
    log(
      `workload: ${w.nodes} nodes × ${w.scrapes} scrapes = ${fmt(w.pushes.length)} pushes, ${fmt(expectedSamples(w))} samples, ${fmt(w.bytes / 1e6, 1)} MB of text`,
    );

    const parse = measureParse(w);
    log(`\n${parseTable(parse)}\n`);

    const results: SystemResult[] = [];
    if (SYSTEMS.includes('arcwatch')) {
      for (const layout of LAYOUTS) {
        log(`ArcWatch (${layout === 'all' ? 'one process, role all' : 'scraper + writer processes'}): pushes …`);
        results.push(await runArcWatch(w, dir, layout));
        log(`  ${fmt(results.at(-1)!.samples / results.at(-1)!.queryableSeconds)} samples/s`);
      }
    }
    if (SYSTEMS.includes('vm')) {
      log('VictoriaMetrics: pushes …');
      results.push(await runVictoriaMetrics(w, dir));
      log(`  ${fmt(results.at(-1)!.samples / results.at(-1)!.queryableSeconds)} samples/s`);
    }
    const table = systemsTable(results);
    log(`\n${table}\n`);
    const loadAfter = os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ');
    log(`load average after: ${loadAfter}`);

    if (WRITE_DOCS && results.length > 0) {
      const cmd = `npm run bench:ingest -- --scrapes ${SCRAPES}${NODES !== 125 ? ` --nodes ${NODES}` : ''}${CONCURRENCY !== 32 ? ` --concurrency ${CONCURRENCY}` : ''}${WRITER_BATCH !== undefined ? ` --writer-batch ${WRITER_BATCH}` : ''}${args.has('layouts') ? ` --layouts ${LAYOUTS.join(',')}` : ''}`;
      const generated = [
        `Generated by \`${cmd}\` on ${new Date().toISOString().slice(0, 10)}.`,
        '',
        `Machine: ${describeMachine(machine)}; after: ${loadAfter}.`,
        '',
        `Workload: ${w.nodes} nodes × 8 GPUs, ${w.scrapes} scrapes 15 s apart, ${fmt(w.pushes.length)} pushes of one node's exposition each (${fmt(w.bytes / 1e6, 1)} MB, ${fmt(expectedSamples(w))} samples), ${CONCURRENCY} requests in flight, the same bytes to both systems.`,
        '',
        parseTable(parse),
        '',
        table,
      ].join('\n');
      writeIngestSection(path.join(REPO_ROOT, 'docs/benchmarks.md'), generated);
      log('docs/benchmarks.md: ## Ingest updated');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
