/**
 * Agent overhead: the agent as its own process (as systemd or the DaemonSet runs it) at a 1 s
 * interval on an 8-GPU node (the stand-in nvidia-smi's h100x8 scenario, NVLink on), publishing
 * to a nats-server of its own, for SECONDS (default 60) after a 10 s warm-up.
 *
 *   npm run bench:agent -- [--seconds 60] [--node-options '--max-old-space-size=48'] [--no-docs]
 *
 * Measured from /proc: the agent's own CPU time (utime + stime), the CPU time of the nvidia-smi
 * runs it waited for (cutime + cstime: here the stand-in's bash and awk, not the real tool; the
 * long-running `-lms` loop is not waited for and not counted), RSS
 * every second. Rewrites the generated block of the `## Agent` section of docs/benchmarks.md.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { REPO_ROOT, startProcess, testNamespace, type RunningProcess } from '@arcwatch/testing';
import { readStream, startNatsServer, STAND_IN, tempDir } from '../src/testing/agent-harness';

const argv = process.argv.slice(2);
const SECONDS = Number(argv[argv.indexOf('--seconds') + 1] || 60) || 60;
const WRITE_DOCS = !argv.includes('--no-docs');
/** Node flags for the agent process, e.g. a heap cap as the systemd unit sets it. */
const NODE_OPTIONS = argv.includes('--node-options') ? argv[argv.indexOf('--node-options') + 1]! : '';
/** What runs: the TypeScript entry through tools/register.js (default) or a built bundle (`npm run build:agent`). */
const ENTRY = argv.includes('--entry') ? argv[argv.indexOf('--entry') + 1]! : 'services/agent/src/main.ts';
const WARMUP_MS = 10_000;
// USER_HZ: clock ticks per second in /proc times (100 on Linux).
const TICK = 100;

const log = (m: string): void => void process.stdout.write(`${m}\n`);

function procTimes(pid: number): { self: number; children: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14-17 of proc(5), counted from the state field (3) here.
  const [utime, stime, cutime, cstime] = [f[11], f[12], f[13], f[14]].map(Number) as [number, number, number, number];
  return { self: (utime + stime) / TICK, children: (cutime + cstime) / TICK };
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const load = os.loadavg();
  const nats = await startNatsServer();
  const namespace = testNamespace();
  const spool = tempDir('agent-bench-spool-');
  const env = {
    NATS_URL: nats.url,
    NATS_NAMESPACE: namespace,
    AGENT_PORT: '0',
    AGENT_HOST: '127.0.0.1',
    AGENT_INTERVAL_MS: '1000',
    AGENT_NVIDIA_SMI: STAND_IN,
    NVIDIA_SMI_FIXTURE: process.env.AGENT_BENCH_SCENARIO ?? 'h100x8',
    AGENT_SPOOL_DIR: spool,
    AGENT_CLUSTER: 'bench',
    AGENT_HOSTNAME: 'gpu-node-001',
    LOG_LEVEL: 'warn',
    NODE_OPTIONS,
  };
  const agent = ENTRY.endsWith('.ts') ? startProcess('agent', ENTRY, [], env) : startBundle(ENTRY, env);
  const pid = agent.child.pid!;
  try {
    log(`agent pid ${pid}; warming up ${WARMUP_MS / 1000} s`);
    await sleep(WARMUP_MS);
    const t0 = procTimes(pid);
    const start = performance.now();
    const rss: number[] = [];
    const firstBatches = (await readStream(nats.url, namespace, 'metrics')).length;
    for (let s = 0; s < SECONDS; s++) {
      await sleep(1000);
      rss.push(rssMiB(pid));
    }
    const t1 = procTimes(pid);
    const wall = (performance.now() - start) / 1000;
    const stored = await readStream(nats.url, namespace, 'metrics');
    const batches = stored.length - firstBatches;
    const last = stored[stored.length - 1]!.event as { data: { series: string[] } };
    const bytes = Buffer.byteLength(JSON.stringify(stored[stored.length - 1]!.event));
    const selfPct = ((t1.self - t0.self) / wall) * 100;
    const childPct = ((t1.children - t0.children) / wall) * 100;
    const sorted = [...rss].sort((a, b) => a - b);
    const result = {
      seconds: wall,
      batches,
      series: last.data.series.length,
      bytes,
      selfPct,
      childPct,
      rssMedian: sorted[Math.floor(sorted.length / 2)]!,
      rssMax: sorted[sorted.length - 1]!,
    };
    log(JSON.stringify(result));
    if (WRITE_DOCS) writeDocs(result, load);
  } finally {
    await agent.stop();
    await nats.dispose();
    fs.rmSync(spool, { recursive: true, force: true });
  }
}

/** A built bundle run by node itself, as the systemd unit and the image run it. */
function startBundle(file: string, env: Record<string, string>): RunningProcess {
  const child = spawn(path.join(REPO_ROOT, 'node_modules', '.bin', 'node'), [path.resolve(REPO_ROOT, file)], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    name: 'agent',
    child,
    exited,
    log: () => '',
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

interface Result {
  seconds: number;
  batches: number;
  series: number;
  bytes: number;
  selfPct: number;
  childPct: number;
  rssMedian: number;
  rssMax: number;
}

function writeDocs(r: Result, load: number[]): void {
  const file = path.join(REPO_ROOT, 'docs', 'benchmarks.md');
  const text = fs.readFileSync(file, 'utf8');
  const date = new Date().toISOString().slice(0, 10);
  const block = [
    '<!-- agent-bench:start -->',
    `Machine: ${os.availableParallelism()} cores (nproc), ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, Node ${process.version}; load average before the run ${load.map((l) => l.toFixed(2)).join(' / ')}; shared with other work. Measured ${date} over ${r.seconds.toFixed(0)} s after a 10 s warm-up.`,
    '',
    '| what | figure |',
    '| --- | --- |',
    `| batches published (1 s interval) | ${r.batches} in ${r.seconds.toFixed(0)} s, ${r.series} series each, ${(r.bytes / 1024).toFixed(0)} KiB per message |`,
    `| agent CPU (its own process) | **${r.selfPct.toFixed(2)} % of one core** |`,
    `| one-shot nvidia-smi runs it waited for (XML, NVLink; the stand-in's bash + awk + cat; the -lms loop process is not counted) | ${r.childPct.toFixed(2)} % of one core |`,
    `| agent RSS${NODE_OPTIONS ? ` (NODE_OPTIONS=\`${NODE_OPTIONS}\`)` : ''} | **${r.rssMedian.toFixed(0)} MiB** median, ${r.rssMax.toFixed(0)} MiB max |`,
    '<!-- agent-bench:end -->',
  ].join('\n');
  const re = /<!-- agent-bench:start -->[\s\S]*?<!-- agent-bench:end -->/;
  if (!re.test(text)) throw new Error('docs/benchmarks.md has no agent-bench block (add the ## Agent section first)');
  fs.writeFileSync(file, text.replace(re, block));
  log('docs/benchmarks.md updated');
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
