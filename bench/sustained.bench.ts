/**
 * Sustained ingest: the 1,000-GPU reference fleet (../shared/bench/fleet.mjs) pushed every second
 * for minutes on end, as a live fleet would be scraped at a 1 s interval (27,500 samples/s).
 *
 *   npm run bench:sustained -- [--minutes 10] [--nodes 125] [--layout split|all] [--variants 60]
 *                              [--probe-ms 200] [--concurrency 32] [--no-docs] [--cpu-prof DIR]
 *
 * The collector runs as its own process(es) with its default compaction (head rows older than
 * 5 minutes folded into chunks every minute): by default split as one would deploy it on a 2-core
 * machine, a `scraper` process taking the pushes and a `writer` process storing and answering
 * queries. Every second, on the second, each node's exposition is pushed to
 * /api/v1/import/prometheus stamped with that second; each body carries one more line, the
 * marker `arcwatch_bench_marker <second> <second in ms>`, one series per node.
 *
 * Measured:
 * - freshness, sample time → queryable, through the query API: every `--probe-ms` the writer is
 *   asked `min(last_over_time(arcwatch_bench_marker[5s]))`, the newest second whose marker every
 *   node has queryable; a second's freshness is the time its probe answered minus the second
 *   (an upper bound: up to one probe interval late). Also the writer's own
 *   arcwatch_collector_writer_freshness_seconds histogram (sample time → commit, per batch);
 * - the writer's JetStream consumer (num_pending + num_ack_pending) every 5 s;
 * - the head (rows, samples, age of its oldest sample) every 5 s, and each compaction pass's time
 *   from arcwatch_collector_compaction_duration_seconds: compaction keeps up when the head stops
 *   growing once its rows reach the 5-minute compaction age;
 * - CPU of the collector process(es), the run's PostgreSQL backends and nats-server; the load
 *   average every minute.
 *
 * The fleet's bodies are generated before the clock starts, `--variants` consecutive seconds of
 * them (generating 4.9 MB of text takes this process 250–400 ms of a core per second, which would
 * be taken from the system under test), and replayed in a cycle with each second's timestamp:
 * values repeat every `--variants` seconds.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventBus } from '@arcwatch/messaging';
import { createPool } from '@arcwatch/storage';
import { REPO_ROOT, authFetch, createTestDatabase, startCpuMeter, uniqueToken } from '@arcwatch/testing';
import pino from 'pino';
import { loadFleet } from './support/fleet-pushes';
import { pushAll, startCollectorProcess, type CollectorLayout } from './support/ingest-systems';
import { describeMachine, fmt, machineInfo, writeGeneratedBlock } from './support/ingest-report';
import { benchArgs } from './support/args';

const args = benchArgs();
const MINUTES = Number(args.get('minutes') ?? 10);
const NODES = Number(args.get('nodes') ?? 125);
const LAYOUT: CollectorLayout = args.get('layout') === 'all' ? 'all' : 'split';
const VARIANTS = Number(args.get('variants') ?? 60);
const PROBE_MS = Number(args.get('probe-ms') ?? 200);
const CONCURRENCY = Number(args.get('concurrency') ?? 32);
const WRITE_DOCS = !args.has('no-docs');
/** A V8 CPU profile of each collector process, written to this directory when the run stops it. */
const CPU_PROFILE_DIR = args.get('cpu-prof');
/** The service's defaults (services/collector/src/config.ts), spelled out: this run is about them. */
const COMPACT_AFTER_MS = 5 * 60_000;
const COMPACT_EVERY_MS = 60_000;
const SAMPLE_EVERY_MS = 5_000;
/** A second whose pushes are still unanswered after this many seconds makes the run skip seconds. */
const MAX_SECONDS_IN_FLIGHT = 5;
const MARKER = 'arcwatch_bench_marker';
const EVENT_LOOP_MAX = 'arcwatch_nodejs_eventloop_lag_max_seconds';
const COMPACTION = 'arcwatch_collector_compaction_duration_seconds';
/** Stands for the timestamp in the generated bodies: as many digits as the real one. */
const TS_PLACEHOLDER = '9999999999999';

const log = (msg: string): void => void process.stdout.write(`${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

interface HistogramSnapshot {
  buckets: Array<{ le: number; count: number }>;
  count: number;
  sum: number;
}

/** One histogram of a service's /metrics text (no labels besides `le`). */
async function readHistogram(baseUrl: string, name: string): Promise<HistogramSnapshot> {
  const text = await (await authFetch(`${baseUrl}/metrics`)).text();
  const buckets: HistogramSnapshot['buckets'] = [];
  let count = 0;
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}_bucket{`)) {
      const le = /le="([^"]+)"/.exec(line)![1]!;
      buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: Number(line.split(' ').at(-1)) });
    } else if (line.startsWith(`${name}_count`)) count = Number(line.split(' ').at(-1));
    else if (line.startsWith(`${name}_sum`)) sum = Number(line.split(' ').at(-1));
  }
  return { buckets, count, sum };
}

/** A gauge of a service's /metrics text (no labels), or NaN. */
async function readGauge(baseUrl: string, name: string): Promise<number> {
  const text = await (await authFetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ').at(-1));
}

/** Quantile of the observations between two snapshots, interpolated inside its bucket as Prometheus does. */
function histogramQuantile(before: HistogramSnapshot, after: HistogramSnapshot, q: number): number {
  const deltas = after.buckets.map((b, i) => ({ le: b.le, count: b.count - (before.buckets[i]?.count ?? 0) }));
  const total = deltas.at(-1)?.count ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const b of deltas) {
    if (b.count >= rank) {
      if (b.le === Infinity) return lower;
      return lower + ((b.le - lower) * (rank - below)) / Math.max(1, b.count - below);
    }
    lower = b.le;
    below = b.count;
  }
  return lower;
}

interface Generated {
  hosts: string[];
  /** variants × nodes bodies, the timestamp as TS_PLACEHOLDER. */
  bodies: string[][];
  samplesPerSecond: number;
  bytesPerSecond: number;
}

async function generate(): Promise<Generated> {
  const { Fleet } = await loadFleet();
  const fleet = new Fleet({ nodes: NODES, seed: 1 });
  const bodies: string[][] = [];
  let bytes = 0;
  for (let v = 0; v < VARIANTS; v++) {
    fleet.step(1);
    const row: string[] = [];
    for (let n = 0; n < NODES; n++) {
      const body = `${fleet.nodeExposition(n, { timestampMs: Number(TS_PLACEHOLDER) })}${MARKER} ${TS_PLACEHOLDER} ${TS_PLACEHOLDER}\n`;
      row.push(body);
      if (v === 0) bytes += Buffer.byteLength(body);
    }
    bodies.push(row);
  }
  return {
    hosts: fleet.nodeInfo.map((n) => n.host),
    bodies,
    samplesPerSecond: fleet.series.length + NODES,
    bytesPerSecond: bytes,
  };
}

interface Sample<T> {
  atMs: number;
  value: T;
}

async function main(): Promise<void> {
  if (Number(process.versions.node.split('.')[0]) < 24)
    throw new Error(`Node 24 expected (got ${process.version}): run npm run bench:sustained`);
  const machine = machineInfo();
  log(`machine: ${describeMachine(machine)}`);
  log(`generating ${VARIANTS} seconds of the ${NODES}-node fleet …`);
  const gen = await generate();
  log(`  ${fmt(gen.samplesPerSecond)} samples and ${fmt(gen.bytesPerSecond / 1e6, 1)} MB per second`);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'arcwatch-sustained-'));
  const db = await createTestDatabase();
  const admin = createPool(db.url, { max: 2 });
  admin.on('error', () => undefined); // the database is dropped with FORCE at the end
  const namespace = uniqueToken('sustained');
  const collector = await startCollectorProcess({
    layout: LAYOUT,
    databaseUrl: db.url,
    namespace,
    writerBatch: 32,
    logDir: dir,
    compactAfterMs: COMPACT_AFTER_MS,
    ...(CPU_PROFILE_DIR ? { cpuProfileDir: path.resolve(CPU_PROFILE_DIR) } : {}),
  });
  const bus = await EventBus.connect({ name: 'sustained-bench', namespace, logger: pino({ level: 'warn' }) });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const probeAgentUrl = collector.queryUrl;
  try {
    const seconds = Math.round(MINUTES * 60);
    const loadBefore = loadavg();
    const freshnessBefore = await readHistogram(probeAgentUrl, 'arcwatch_collector_writer_freshness_seconds');
    const meter = await startCpuMeter(collector.pids, { admin, database: db.name });
    const firstSecond = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    const lastSecond = firstSecond + (seconds - 1) * 1000;
    const pushErrors: string[] = [];
    const ackedAfter = new Map<number, number>();
    let skipped = 0;
    let inFlight = 0;
    let stopProbes = false;

    // Probes: when each second became queryable for the whole fleet.
    const visibleAt = new Map<number, number>();
    const probeRtts: number[] = [];
    let probeFailures = 0;
    const probes = (async () => {
      let newest = 0;
      while (!stopProbes) {
        const sent = Date.now();
        try {
          const res = await authFetch(
            `${probeAgentUrl}/api/v1/query?query=${encodeURIComponent(`min(last_over_time(${MARKER}[5s]))`)}&time=${sent / 1000}&nocache=1`,
          );
          const body = (await res.json()) as { data?: { result?: Array<{ value: [number, string] }> } };
          const got = Date.now();
          probeRtts.push(got - sent);
          const v = body.data?.result?.[0]?.value[1];
          if (v !== undefined) {
            const sec = Math.round(Number(v) * 1000);
            for (let s = Math.max(newest + 1000, firstSecond); s <= sec; s += 1000) visibleAt.set(s, got);
            newest = Math.max(newest, sec);
          }
        } catch {
          probeFailures++;
        }
        await sleep(sent + PROBE_MS - Date.now());
      }
    })();

    // Every 5 s: the writer's consumer and the head.
    const consumer: Array<Sample<{ pending: number; ackPending: number }>> = [];
    const head: Array<Sample<{ rows: number; samples: number; oldestAgeS: number }>> = [];
    const loads: Array<Sample<string>> = [];
    // the longest event-loop stall of each process since the previous read (prom-client resets it)
    const stalls: Array<Sample<{ writer: number; scraper: number }>> = [];
    // compaction passes as the writer's histogram counts them: [end − duration, end] per pass
    // that ended between two reads (its end taken as the later read: 5 s resolution)
    const passes: Array<{ fromMs: number; toMs: number }> = [];
    let compactionSeen: HistogramSnapshot | undefined;
    const sampler = (async () => {
      const stream = bus.streamName('metrics');
      while (!stopProbes) {
        const at = Date.now();
        const ci = await bus.jsm.consumers.info(stream, 'collector-writer').catch(() => undefined);
        if (ci) consumer.push({ atMs: at, value: { pending: ci.num_pending, ackPending: ci.num_ack_pending } });
        const { rows } = await admin.query<{ rows: string; samples: string | null; oldest: string | null }>(
          'SELECT count(*) AS rows, sum(samples) AS samples, min(min_ts) AS oldest FROM collector.head',
        );
        const r = rows[0]!;
        head.push({
          atMs: at,
          value: {
            rows: Number(r.rows),
            samples: Number(r.samples ?? 0),
            oldestAgeS: r.oldest === null ? 0 : (at - Number(r.oldest)) / 1000,
          },
        });
        if (loads.length === 0 || at - loads.at(-1)!.atMs >= 60_000) loads.push({ atMs: at, value: loadavg() });
        const [writerStall, scraperStall] = await Promise.all([
          readGauge(probeAgentUrl, EVENT_LOOP_MAX).catch(() => NaN),
          LAYOUT === 'split' ? readGauge(collector.baseUrl, EVENT_LOOP_MAX).catch(() => NaN) : NaN,
        ]);
        stalls.push({ atMs: at, value: { writer: writerStall, scraper: scraperStall } });
        const compacted = await readHistogram(probeAgentUrl, COMPACTION).catch(() => undefined);
        if (compacted && compactionSeen && compacted.count > compactionSeen.count) {
          const lastedMs = ((compacted.sum - compactionSeen.sum) / (compacted.count - compactionSeen.count)) * 1000;
          passes.push({ fromMs: at - lastedMs - SAMPLE_EVERY_MS, toMs: at });
        }
        compactionSeen = compacted ?? compactionSeen;
        await sleep(at + SAMPLE_EVERY_MS - Date.now());
      }
    })();

    // The fleet: every second, on the second, each node's body stamped with that second.
    log(`pushing ${seconds} s (${MINUTES} min) to the collector (${LAYOUT}) …`);
    const pushes: Array<Promise<void>> = [];
    for (let k = 0; k < seconds; k++) {
      const second = firstSecond + k * 1000;
      await sleep(second - Date.now());
      if (inFlight >= MAX_SECONDS_IN_FLIGHT) {
        skipped++;
        continue;
      }
      const stamp = String(second);
      const bodies = gen.bodies[k % VARIANTS]!.map((b, n) => ({
        host: gen.hosts[n]!,
        body: b.replaceAll(TS_PLACEHOLDER, stamp).replace(`${MARKER} ${stamp}`, `${MARKER} ${second / 1000}`),
      }));
      inFlight++;
      pushes.push(
        pushAll(collector.baseUrl, bodies, CONCURRENCY, agent).then(
          () => {
            inFlight--;
            ackedAfter.set(second, Date.now() - second);
          },
          (err: unknown) => {
            inFlight--;
            if (pushErrors.length < 5) pushErrors.push(String(err));
          },
        ),
      );
      if ((k + 1) % 60 === 0) {
        const h = head.at(-1)?.value;
        const c = consumer.at(-1)?.value;
        log(
          `  ${(k + 1) / 60} min: load ${loadavg()}; queryable up to ${visibleAt.size} of ${k + 1} s; pending ${c ? c.pending + c.ackPending : '?'} msgs; head ${h ? `${fmt(h.rows)} rows, oldest ${fmt(h.oldestAgeS, 0)} s` : '?'}`,
        );
      }
    }
    await Promise.all(pushes);
    // The tail: the last seconds become queryable (or not, within a minute).
    const tailDeadline = Date.now() + 60_000;
    while (!visibleAt.has(lastSecond) && Date.now() < tailDeadline) await sleep(100);
    stopProbes = true;
    await Promise.all([probes, sampler]);
    const cpu = await meter.stop();
    const wallS = (Date.now() - firstSecond) / 1000;
    const freshnessAfter = await readHistogram(probeAgentUrl, 'arcwatch_collector_writer_freshness_seconds');
    const compaction = await readHistogram(probeAgentUrl, COMPACTION);
    const loadAfter = loadavg();

    // Results.
    const pushed = [...ackedAfter.keys()];
    const fresh = pushed.filter((s) => visibleAt.has(s)).map((s) => (visibleAt.get(s)! - s) / 1000);
    // a second "meets" a pass when it was pushed or became queryable while one may have run
    const meetsPass = (s: number) =>
      passes.some((p) => (s >= p.fromMs && s <= p.toMs) || (visibleAt.get(s)! >= p.fromMs && s <= p.toMs));
    const freshIn = pushed.filter((s) => visibleAt.has(s) && meetsPass(s)).map((s) => (visibleAt.get(s)! - s) / 1000);
    const freshOut = pushed.filter((s) => visibleAt.has(s) && !meetsPass(s)).map((s) => (visibleAt.get(s)! - s) / 1000);
    const neverVisible = pushed.length - fresh.length;
    const acks = [...ackedAfter.values()].map((ms) => ms / 1000);
    const lag = consumer.map((c) => c.value.pending + c.value.ackPending);
    const warmS = (COMPACT_AFTER_MS + COMPACT_EVERY_MS) / 1000 + 30;
    const steady = head.filter((h) => (h.atMs - firstSecond) / 1000 >= warmS);
    const headAtMinute = (m: number) => head.findLast((h) => h.atMs - firstSecond <= m * 60_000)?.value;
    const minutes = Array.from({ length: Math.floor(seconds / 60) }, (_, i) => i + 1);
    const oldestMax = steady.length ? Math.max(...steady.map((h) => h.value.oldestAgeS)) : NaN;
    const rowsSteady = steady.map((h) => h.value.rows);
    const half = Math.floor(rowsSteady.length / 2);
    const rowsFirstHalf = rowsSteady.slice(0, half);
    const rowsSecondHalf = rowsSteady.slice(half);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const keepsUp =
      steady.length === 0
        ? `not judged: the run is shorter than ${fmt(warmS / 60, 1)} min (compaction age + interval)`
        : oldestMax <= (COMPACT_AFTER_MS + 2 * COMPACT_EVERY_MS) / 1000
          ? `yes: after ${fmt(warmS / 60, 1)} min the oldest head sample was at most ${fmt(oldestMax, 0)} s old (compaction age ${COMPACT_AFTER_MS / 1000} s + one ${COMPACT_EVERY_MS / 1000} s interval), head rows averaged ${fmt(mean(rowsFirstHalf))} then ${fmt(mean(rowsSecondHalf))} over the two halves of that stretch`
          : `no: the oldest head sample reached ${fmt(oldestMax, 0)} s (compaction age ${COMPACT_AFTER_MS / 1000} s); head rows averaged ${fmt(mean(rowsFirstHalf))} then ${fmt(mean(rowsSecondHalf))}`;
    const { rows: chunkRows } = await admin.query<{ n: string; b: string | null }>(
      'SELECT count(*) AS n, sum(count) AS b FROM collector.chunks',
    );
    const cpuTotal = cpu.processCpu + (cpu.postgresCpu ?? 0) + (cpu.natsCpu ?? 0);
    const stallRows = (['writer', 'scraper'] as const)
      .map((role) => ({ role, xs: stalls.map((x) => x.value[role] * 1000).filter((x) => !Number.isNaN(x)) }))
      .filter(({ xs }) => xs.length > 0)
      .map(
        ({ role, xs }) =>
          `| ${LAYOUT === 'split' ? `${role} process` : 'collector process'}: longest event-loop stall per ${SAMPLE_EVERY_MS / 1000} s, ms | ${fmt(quantile(xs, 0.5), 0)} / ${fmt(quantile(xs, 0.99), 0)} | ${fmt(Math.max(...xs), 0)} |`,
      )
      .slice(0, LAYOUT === 'split' ? 2 : 1);
    const q = (xs: number[], d = 2) => `${fmt(quantile(xs, 0.5), d)} / ${fmt(quantile(xs, 0.99), d)}`;

    const table = [
      `| ${NODES} nodes, 1 s interval, ${fmt(seconds / 60, 1)} min | p50 / p99 | max |`,
      '| --- | ---: | ---: |',
      `| **freshness, sample time → queryable (API probe every ${PROBE_MS} ms), s** | **${q(fresh)}** | ${fmt(Math.max(...fresh), 2)} |`,
      `| the same, split: ${fmt(freshOut.length)} seconds clear of compaction passes; ${fmt(freshIn.length)} that met one (a pass located to ${SAMPLE_EVERY_MS / 1000} s), s | clear ${q(freshOut)}; met ${freshIn.length ? q(freshIn) : '—'} | ${fmt(Math.max(...freshOut), 2)}; ${freshIn.length ? fmt(Math.max(...freshIn), 2) : '—'} |`,
      `| freshness, sample time → committed (writer histogram, per batch), s | ${fmt(histogramQuantile(freshnessBefore, freshnessAfter, 0.5), 2)} / ${fmt(histogramQuantile(freshnessBefore, freshnessAfter, 0.99), 2)} | — |`,
      `| second pushed → its ${NODES} pushes acknowledged, s | ${q(acks)} | ${fmt(Math.max(...acks), 2)} |`,
      `| consumer lag (writer durable: pending + unacknowledged messages, every ${SAMPLE_EVERY_MS / 1000} s) | ${fmt(quantile(lag, 0.5))} / ${fmt(quantile(lag, 0.99))} | ${fmt(Math.max(...lag))} |`,
      `| probe round trip, ms | ${q(probeRtts, 0)} | ${fmt(Math.max(...probeRtts), 0)} |`,
      ...stallRows,
    ].join('\n');
    const headLine = minutes
      .map((m) => {
        const h = headAtMinute(m);
        return h ? `${m}: ${fmt(h.rows)} (${fmt(h.oldestAgeS, 0)} s)` : `${m}: —`;
      })
      .join(', ');
    const lines = [
      `Run ${new Date(firstSecond).toISOString().slice(0, 16)}Z, \`npm run bench:sustained${MINUTES !== 10 ? ` -- --minutes ${MINUTES}` : ''}${NODES !== 125 ? ` --nodes ${NODES}` : ''}${LAYOUT !== 'split' ? ' --layout all' : ''}\`.`,
      '',
      `Machine: ${describeMachine(machine)}; at the start of the pushes ${loadBefore}, every minute ${loads.map((l) => l.value).join('; ')}; at the end ${loadAfter}.`,
      '',
      `Workload: ${NODES} nodes × 8 GPUs pushed every second for ${fmt(seconds)} s, ${fmt(gen.samplesPerSecond)} samples (${NODES} of them markers) and ${fmt(gen.bytesPerSecond / 1e6, 1)} MB per second, ${CONCURRENCY} requests in flight, values cycling every ${VARIANTS} s; collector ${LAYOUT === 'split' ? 'as a scraper and a writer process' : 'as one process'}, compaction at its defaults (head rows older than ${COMPACT_AFTER_MS / 60_000} min, every ${COMPACT_EVERY_MS / 1000} s).`,
      '',
      table,
      '',
      `- Seconds pushed ${fmt(pushed.length)} of ${fmt(seconds)} (${skipped} skipped with ${MAX_SECONDS_IN_FLIGHT} seconds unanswered, ${pushErrors.length} with a failed push${pushErrors.length ? `: ${pushErrors[0]!.slice(0, 200)}` : ''}); ${neverVisible} never seen queryable; ${probeFailures} probes failed.`,
      `- Head rows (oldest sample's age) at each minute: ${headLine}. Compaction kept up within the run (chunks of a 2 h bucket grow past it: compaction.bench --prefill-s): ${keepsUp}. Compaction passes: ${compaction.count}, ${fmt(compaction.sum, 1)} s in all; chunk rows at the end ${fmt(Number(chunkRows[0]!.n))} holding ${fmt(Number(chunkRows[0]!.b ?? 0))} samples.`,
      `- CPU over ${fmt(wallS, 0)} s: collector process(es) ${fmt(cpu.processCpu / wallS, 2)} cores, PostgreSQL backends ${fmt((cpu.postgresCpu ?? 0) / wallS, 2)}, nats-server (shared) ${fmt((cpu.natsCpu ?? 0) / wallS, 2)}: ${fmt(cpuTotal / wallS, 2)} of ${machine.cores} cores server-side, ${fmt((cpuTotal / (pushed.length * gen.samplesPerSecond)) * 1e6, 2)} µs per sample; this process (pushes and probes) ${fmt(cpu.driverCpu / wallS, 2)}.`,
    ];
    log(`\n${lines.join('\n')}\n`);
    if (WRITE_DOCS) {
      writeGeneratedBlock(
        path.join(REPO_ROOT, 'docs/benchmarks.md'),
        'Sustained ingest',
        'sustained-bench',
        lines.join('\n'),
      );
      log('docs/benchmarks.md: ## Sustained ingest updated');
    }
  } finally {
    agent.destroy();
    await bus.drain().catch(() => undefined);
    await collector.stop();
    await admin.end();
    await db.drop();
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
