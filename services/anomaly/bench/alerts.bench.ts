/**
 * Alert latency and evaluation cost of the anomaly service, beside Debian's Prometheus +
 * Alertmanager, in one run on one machine:
 *
 * 1. ArcWatch: a metrics batch whose sample crosses a threshold (`gpu_temp > 90`) is published on
 *    the metrics stream; latency runs until its alert event arrives at a subscriber on
 *    aw.alerts.v1.… (real NATS JetStream and PostgreSQL), over N crossings, each resolved before
 *    the next; once per debounce setting.
 * 2. Prometheus (1 s scrape and evaluation) + Alertmanager (group_wait 0s, webhook receiver in
 *    this process): the target's value changes → the webhook POST with the firing alert arrives.
 * 3. Rules evaluated per second over the 1,000-GPU reference fleet with infra/rules and the
 *    kube-prometheus rule files loaded.
 *
 *   npm run bench:alerts -- [--crossings 200] [--prom-crossings N] [--debounce 25,0]
 *                           [--eval-minutes 75] [--eval-rounds 5] [--nodes 125]
 *                           [--systems arcwatch,prometheus,eval] [--no-docs]
 *
 * Rewrites the alerts-bench block of docs/benchmarks.md unless --no-docs (or a part is left out).
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import {
  cloudEvent,
  EVENT_TYPES,
  SUBJECTS,
  type AlertV1,
  type CloudEvent,
  type MetricsBatchV1,
} from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { createTestDatabase, REPO_ROOT, testNamespace } from '@arcwatch/testing';
import { createAnomalyApp } from '../src/app';
import { testConfig } from '../src/testing/anomaly-test-kit';
import { CROSSING_GPUS, ruleGroup, summarise, type LatencySummary } from './crossings';
import { peerAvailable, runPrometheusPeer, type PeerRun } from './prometheus-peer';
import { runRuleEval, type EvalRun } from './rule-eval';

function parseArgs(argv: string[]) {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}" (options are --name value)`);
    if (a === '--no-docs') flags.set('no-docs', 'true');
    else flags.set(a.slice(2), argv[++i] ?? '');
  }
  const num = (name: string, dflt: number) => {
    const v = Number(flags.get(name) ?? dflt);
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`--${name} must be a positive integer, got "${flags.get(name)}"`);
    return v;
  };
  const crossings = num('crossings', 200);
  const systems = new Set((flags.get('systems') ?? 'arcwatch,prometheus,eval').split(','));
  for (const s of systems)
    if (!['arcwatch', 'prometheus', 'eval'].includes(s))
      throw new Error(`--systems: unknown "${s}" (arcwatch, prometheus, eval)`);
  const debounces = (flags.get('debounce') ?? '25,0').split(',').map((d) => {
    if (!/^\d+$/.test(d)) throw new Error(`--debounce takes milliseconds, comma-separated; got "${d}"`);
    return Number(d);
  });
  return {
    crossings,
    promCrossings: num('prom-crossings', crossings),
    debounces,
    evalMinutes: num('eval-minutes', 75),
    evalRounds: num('eval-rounds', 5),
    nodes: num('nodes', 125),
    systems,
    docs: !flags.has('no-docs'),
  };
}

const log = (line: string) => process.stdout.write(`${line}\n`);

async function runArcwatch(crossings: number, debounceMs: number): Promise<number[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'anomaly-bench-'));
  const rules = path.join(dir, 'rules.yml');
  writeFileSync(rules, ruleGroup('1m'));
  const db = await createTestDatabase();
  const ns = testNamespace();
  const app = await createAnomalyApp({
    config: testConfig(db.url, ns, { ANOMALY_RULE_FILES: rules, ANOMALY_DEBOUNCE_MS: String(debounceMs) }),
  });
  await app.init();
  const bus = await EventBus.connect({ name: 'anomaly-bench', namespace: ns });
  const waiting = new Map<string, (at: number) => void>();
  const sub = bus.nc.subscribe(bus.naming.toWire('aw.alerts.v1.>'));
  void (async () => {
    for await (const m of sub) {
      const e = m.json<CloudEvent<AlertV1>>();
      waiting.get(`${e.data.status}/${e.data.labels.gpu}`)?.(performance.now());
    }
  })();
  let n = 0;
  const push = async (gpu: string, value: number) => {
    const at = Date.now();
    const id = `bench-${++n}`;
    const data: MetricsBatchV1 = {
      batchId: id,
      source: 'scrape',
      cluster: 'bench',
      node: 'node-1',
      target: { job: 'dcgm-exporter', instance: 'node-1:9400' },
      scrapedAtMs: at,
      series: [{ labels: { __name__: 'gpu_temp', gpu }, samples: [[at, value]] }],
    };
    await bus.publish(
      SUBJECTS.metricsSamples('bench', 'node-1'),
      cloudEvent({ id, source: 'bench', type: EVENT_TYPES.metricsBatch, data }),
    );
  };
  const expect = (key: string) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no event ${key} within 10 s`)), 10_000);
      waiting.set(key, (at) => {
        clearTimeout(timer);
        waiting.delete(key);
        resolve(at);
      });
    });
  const latencies: number[] = [];
  try {
    for (let i = 0; i < crossings; i++) {
      const gpu = CROSSING_GPUS[i % CROSSING_GPUS.length];
      const fired = expect(`firing/${gpu}`);
      const t0 = performance.now();
      await push(gpu, 95);
      latencies.push((await fired) - t0);
      const resolved = expect(`resolved/${gpu}`);
      await push(gpu, 70);
      await resolved;
    }
  } finally {
    sub.unsubscribe();
    await app.close();
    for (const key of ['metrics', 'alerts', 'deadLetter'] as const)
      await bus.jsm.streams.delete(bus.streamName(key)).catch(() => false);
    await bus.drain();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  return latencies;
}

function natsVersion(): string {
  try {
    return /v?(\d+\.\d+\.\d+)/.exec(execFileSync('nats-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

function pgVersion(): string {
  try {
    const out = execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-Atc', 'SHOW server_version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.trim().split(' ')[0] || '?';
  } catch {
    return '?';
  }
}

const ms = (v: number) => (v >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));
const row = (s: LatencySummary) =>
  `p50 ${ms(s.p50)} ms, p95 ${ms(s.p95)} ms, p99 ${ms(s.p99)} ms (max ${ms(s.max)} ms)`;
const loads = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');

interface Results {
  startedAt: Date;
  load0: number[];
  load1: number[];
  wallMs: number;
  arcwatch: Array<{ debounceMs: number; summary: LatencySummary; wallMs: number }>;
  peer?: PeerRun & { summary: LatencySummary };
  peerMissing?: string;
  evalRun?: EvalRun;
  evalMinutes: number;
  nodes: number;
}

function report(r: Results): string {
  const cpu = cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? '?';
  const lines: string[] = [];
  const versions = r.peer
    ? `; peers Prometheus ${r.peer.versions.prometheus}, Alertmanager ${r.peer.versions.alertmanager}`
    : '';
  lines.push(
    `Last run ${r.startedAt.toISOString().slice(0, 16)}Z (\`npm run bench:alerts\`, ${(r.wallMs / 60_000).toFixed(1)} min in all).`,
    '',
    `Machine: ${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory (${(freemem() / 2 ** 30).toFixed(1)} free), Node ${process.version}, PostgreSQL ${pgVersion()} and NATS ${natsVersion()} on the same machine${versions}; load average (1/5/15 min) at the start ${loads(r.load0)}, at the end ${loads(r.load1)}; shared with other work.`,
    '',
    '| what | crossings | latency | run took |',
    '| --- | ---: | --- | ---: |',
  );
  for (const a of r.arcwatch)
    lines.push(
      `| ArcWatch, debounce ${a.debounceMs} ms${a.debounceMs === 25 ? ' (default)' : ''}: sample published → alert event received on aw.alerts.v1.… | ${a.summary.n} | ${a.debounceMs === 25 ? `**${row(a.summary)}**` : row(a.summary)} | ${(a.wallMs / 1000).toFixed(0)} s |`,
    );
  if (r.peer)
    lines.push(
      `| Prometheus ${r.peer.versions.prometheus} (1 s scrape and evaluation) + Alertmanager ${r.peer.versions.alertmanager} (group_wait 0s, group_interval 1s): target value changed → webhook received | ${r.peer.summary.n} | ${row(r.peer.summary)} | ${(r.peer.wallMs / 1000).toFixed(0)} s |`,
    );
  else if (r.peerMissing) lines.push(`| Prometheus + Alertmanager | — | not measured: ${r.peerMissing} | — |`);
  const e = r.evalRun;
  if (e) {
    const sorted = [...e.rounds].sort((a, b) => a - b);
    const med = sorted[Math.floor(sorted.length / 2)];
    const rules = e.alerting + e.recording;
    lines.push(
      '',
      `Evaluation cost: ${e.files.length} rule files (infra/rules/llm-fleet.rules.yml and the ${e.files.length - 1} kube-prometheus files), ${e.groups} groups, ${rules} rules (${e.alerting} alerting, ${e.recording} recording), over the ${r.nodes}-node fleet in the window: ${e.series.toLocaleString('en-US')} series, ${r.evalMinutes} min of 15 s scrapes (${e.windowSamples.toLocaleString('en-US')} samples; filling the window took ${(e.fillMs / 1000).toFixed(1)} s, not timed). Every group evaluated once per round (RuleGroupEvaluator over the LiveWindow, outputs appended), one new scrape per round, ${e.rounds.length} rounds after a warm-up:`,
      '',
      '| what | figure |',
      '| --- | --- |',
      `| one evaluation of every group, median (min – max) | ${ms(med)} ms (${ms(sorted[0])} – ${ms(sorted[sorted.length - 1])}) |`,
      `| **rules evaluated per second** (one thread) | **${Math.round(rules / (med / 1000)).toLocaleString('en-US')}** |`,
      `| one core's share at the groups' own intervals (15 s where a group gives none) | ${(e.coreShare * 100).toFixed(1)} % |`,
      `| slowest groups (median ms) | ${e.slowest.map((s) => `${s.group} (${s.rules} rules) ${ms(s.ms)}`).join('; ')} |`,
      `| after the last round | ${e.active.firing} alerts firing, ${e.active.pending} pending, ${e.errors} rule errors |`,
    );
  }
  return lines.join('\n');
}

function writeDocs(block: string): void {
  // Read right before writing: other runs may have changed the file meanwhile.
  const file = path.join(REPO_ROOT, 'docs/benchmarks.md');
  const text = readFileSync(file, 'utf8');
  const start = '<!-- alerts-bench:start -->';
  const end = '<!-- alerts-bench:end -->';
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < 0) throw new Error('docs/benchmarks.md has no alerts-bench block');
  writeFileSync(file, `${text.slice(0, i + start.length)}\n${block}\n${text.slice(j)}`);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const r: Results = {
    startedAt: new Date(),
    load0: loadavg(),
    load1: [],
    wallMs: 0,
    arcwatch: [],
    evalMinutes: opts.evalMinutes,
    nodes: opts.nodes,
  };
  log(`load average at the start: ${loads(r.load0)}`);
  if (opts.systems.has('arcwatch'))
    for (const d of opts.debounces) {
      const t = performance.now();
      const lat = await runArcwatch(opts.crossings, d);
      r.arcwatch.push({ debounceMs: d, summary: summarise(lat), wallMs: performance.now() - t });
      log(`ArcWatch, debounce ${d} ms, ${opts.crossings} crossings: ${row(summarise(lat))}`);
    }
  if (opts.systems.has('prometheus')) {
    r.peerMissing = peerAvailable();
    if (!r.peerMissing) {
      log(`Prometheus + Alertmanager, ${opts.promCrossings} crossings (about 2–3 s each)…`);
      const peer = await runPrometheusPeer(opts.promCrossings, log);
      r.peer = { ...peer, summary: summarise(peer.latencies) };
      log(`Prometheus + Alertmanager: ${row(r.peer.summary)}`);
    } else log(`Prometheus + Alertmanager skipped: ${r.peerMissing}`);
  }
  if (opts.systems.has('eval')) {
    log(`evaluation cost: ${opts.nodes} nodes, ${opts.evalMinutes} min in the window…`);
    r.evalRun = await runRuleEval({
      nodes: opts.nodes,
      minutes: opts.evalMinutes,
      rounds: opts.evalRounds,
      defaultIntervalMs: 15_000,
      log,
    });
  }
  r.load1 = loadavg();
  r.wallMs = performance.now() - started;
  const block = report(r);
  log(`\n${block}`);
  const complete = opts.systems.size === 3 && r.peer !== undefined;
  if (opts.docs && complete) {
    writeDocs(block);
    log('\ndocs/benchmarks.md updated (alerts-bench block)');
  } else if (opts.docs) log('\ndocs/benchmarks.md left as it is: not every part was measured in this run');
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
