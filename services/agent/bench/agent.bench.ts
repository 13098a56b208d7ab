/**
 * Agent overhead: the agent as its own process at a 1 s interval on an 8-GPU node (the stand-in
 * nvidia-smi's h100x8 scenario, NVLink on), publishing to a nats-server of its own, for SECONDS
 * (default 60) after a 10 s warm-up — one variant after the other in the same run:
 *
 * - `deployed`: dist/agent/agent.cjs (built first, `npm run build:agent`) with the systemd unit's
 *   and the DaemonSet's NODE_OPTIONS and MALLOC_ARENA_MAX, default settings (`-q -x` and NVLink every 30 s);
 * - `deployed, optimising compilers on`: the same bundle started with `--turbofan --maglev`, which
 *   src/v8-flags.ts otherwise turns off;
 * - with `--before-bundle FILE`: an earlier bundle with the same flags, e.g. the one before the
 *   agent dropped zod, built from that commit's sources (git-ignored tmp/, libs linked beside them):
 *   `D=tmp/agent-before-bundle; mkdir -p $D/node_modules/@arcwatch && git archive 62dbbc4 libs
 *   services/agent | tar -x -C $D && for l in $(ls $D/libs); do ln -s ../../libs/$l
 *   $D/node_modules/@arcwatch/$l; done && npx rolldown $D/services/agent/src/main.ts --format cjs
 *   --platform node --file $D/agent.cjs`;
 * - `TypeScript entry`: services/agent/src/main.ts through tools/register.js, no flags (how
 *   `npm start` and the other services run);
 * - `previous version` with `--before DIR`: DIR/services/agent/src/main.ts through register.js
 *   with the unit's old NODE_OPTIONS (--max-old-space-size=64); DIR inside the repository (e.g.
 *   `tmp/agent-before`, git-ignored) so that it resolves node_modules and the libs, e.g.
 *   `mkdir -p tmp/agent-before && git archive 4e8f406 services/agent | tar -x -C tmp/agent-before`.
 *
 *   npm run bench:agent -- [--seconds 60] [--before-bundle FILE] [--before tmp/agent-before] [--only deployed] [--no-docs]
 *
 * Measured from /proc: the agent's own CPU time (utime + stime), the CPU time of the nvidia-smi
 * runs it waited for (cutime + cstime: here the stand-in's bash and awk, not the real tool; the
 * long-running `-lms` loop is not waited for and not counted), RSS and its anonymous part every
 * second. Rewrites the generated block of the `## Agent` section of docs/benchmarks.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT, testNamespace } from '@arcwatch/testing';
import { readStream, startNatsServer, STAND_IN, tempDir, type NatsServer } from '../src/testing/agent-harness';

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const SECONDS = Number(arg('--seconds') ?? 60) || 60;
const WRITE_DOCS = !argv.includes('--no-docs');
const BEFORE = arg('--before');
const BEFORE_BUNDLE = arg('--before-bundle');
const ONLY = arg('--only');
const WARMUP_MS = 10_000;
// USER_HZ: clock ticks per second in /proc times (100 on Linux).
const TICK = 100;
const NODE = path.join(REPO_ROOT, 'node_modules', '.bin', 'node');
const BUNDLE = path.join(REPO_ROOT, 'dist', 'agent', 'agent.cjs');
/** As infra/agent/arcwatch-agent.service and infra/k8s/agent-daemonset.yaml set them. */
const DEPLOYED_NODE_OPTIONS = '--max-old-space-size=64 --max-semi-space-size=4 --v8-pool-size=1';

const log = (m: string): void => void process.stdout.write(`${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Variant {
  name: string;
  args: string[];
  env: Record<string, string>;
  /** Settings file (AGENT_CONFIG) text, if any. */
  yaml?: string;
}

function variants(): Variant[] {
  const register = path.join(REPO_ROOT, 'tools', 'register.js');
  const deployedEnv = { NODE_OPTIONS: DEPLOYED_NODE_OPTIONS, MALLOC_ARENA_MAX: '2' };
  const all: Variant[] = [
    { name: 'deployed', args: [BUNDLE], env: deployedEnv },
    {
      name: 'deployed, optimising compilers on (`--turbofan --maglev`)',
      args: ['--turbofan', '--maglev', BUNDLE],
      env: deployedEnv,
    },
    ...(BEFORE_BUNDLE
      ? [
          {
            name: `before: ${path.relative(REPO_ROOT, path.resolve(REPO_ROOT, BEFORE_BUNDLE))}, same flags`,
            args: [path.resolve(REPO_ROOT, BEFORE_BUNDLE)],
            env: deployedEnv,
          },
        ]
      : []),
    {
      name: 'TypeScript entry (register.js), no flags',
      args: [register, path.join(REPO_ROOT, 'services/agent/src/main.ts')],
      env: { NODE_OPTIONS: '' },
    },
  ];
  if (BEFORE)
    all.push({
      name: 'previous version (NestJS app, register.js, XML and NVLink every 10 s)',
      args: [register, path.resolve(REPO_ROOT, BEFORE, 'services/agent/src/main.ts')],
      env: { NODE_OPTIONS: '--max-old-space-size=64' },
    });
  return ONLY ? all.filter((v) => v.name === ONLY) : all;
}

function procTimes(pid: number): { self: number; children: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14-17 of proc(5), counted from the state field (3) here.
  const [utime, stime, cutime, cstime] = [f[11], f[12], f[13], f[14]].map(Number) as [number, number, number, number];
  return { self: (utime + stime) / TICK, children: (cutime + cstime) / TICK };
}

function memMiB(pid: number): { rss: number; anon: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon') };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Result {
  name: string;
  seconds: number;
  batches: number;
  series: number;
  bytes: number;
  selfPct: number;
  childPct: number;
  rssMedian: number;
  rssMax: number;
  anonMedian: number;
}

async function measure(v: Variant, nats: NatsServer): Promise<Result> {
  const namespace = testNamespace();
  const spool = tempDir('agent-bench-spool-');
  const env: Record<string, string> = {
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
    ...v.env,
  };
  if (v.yaml) {
    env.AGENT_CONFIG = path.join(spool, '..', `${path.basename(spool)}.yaml`);
    fs.writeFileSync(env.AGENT_CONFIG, v.yaml);
  }
  const child = spawn(NODE, v.args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid!;
  try {
    log(`${v.name}: pid ${pid}; warming up ${WARMUP_MS / 1000} s`);
    await sleep(WARMUP_MS);
    const t0 = procTimes(pid);
    const start = performance.now();
    const mem: Array<{ rss: number; anon: number }> = [];
    const firstBatches = (await readStream(nats.url, namespace, 'metrics')).length;
    for (let s = 0; s < SECONDS; s++) {
      await sleep(1000);
      mem.push(memMiB(pid));
    }
    const t1 = procTimes(pid);
    const wall = (performance.now() - start) / 1000;
    const stored = await readStream(nats.url, namespace, 'metrics');
    const last = stored[stored.length - 1]!.event as { data: { series: string[] } };
    const rss = mem.map((m) => m.rss);
    const result: Result = {
      name: v.name,
      seconds: wall,
      batches: stored.length - firstBatches,
      series: last.data.series.length,
      bytes: Buffer.byteLength(JSON.stringify(stored[stored.length - 1]!.event)),
      selfPct: ((t1.self - t0.self) / wall) * 100,
      childPct: ((t1.children - t0.children) / wall) * 100,
      rssMedian: median(rss),
      rssMax: Math.max(...rss),
      anonMedian: median(mem.map((m) => m.anon)),
    };
    log(JSON.stringify(result));
    return result;
  } finally {
    child.kill('SIGTERM');
    await exited;
    fs.rmSync(spool, { recursive: true, force: true });
    if (env.AGENT_CONFIG) fs.rmSync(env.AGENT_CONFIG, { force: true });
  }
}

async function main(): Promise<void> {
  const load = os.loadavg();
  const built = spawnSync('npm', ['run', 'build:agent'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build:agent failed');
  const nats = await startNatsServer();
  const results: Result[] = [];
  try {
    for (const v of variants()) results.push(await measure(v, nats));
  } finally {
    await nats.dispose();
  }
  const loadAfter = os.loadavg();
  if (WRITE_DOCS) writeDocs(results, load, loadAfter);
}

function writeDocs(rs: Result[], load: number[], loadAfter: number[]): void {
  const file = path.join(REPO_ROOT, 'docs', 'benchmarks.md');
  const text = fs.readFileSync(file, 'utf8');
  const date = new Date().toISOString().slice(0, 16);
  const f = (x: number, d = 2) => x.toFixed(d);
  const block = [
    '<!-- agent-bench:start -->',
    `Machine: ${os.availableParallelism()} cores (nproc), ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${f(os.totalmem() / 2 ** 30, 1)} GiB memory, Node ${process.version}; load average ${load.map((l) => f(l)).join(' / ')} before the run and ${loadAfter.map((l) => f(l)).join(' / ')} after it; shared with other work. Measured ${date}Z, each variant over ${f(rs[0]?.seconds ?? 0, 0)} s after a 10 s warm-up, one after the other. Deployed flags: NODE_OPTIONS=\`${DEPLOYED_NODE_OPTIONS}\`, MALLOC_ARENA_MAX=2.`,
    '',
    '| variant | agent CPU (its own process, one core) | RSS median (max) | of which anonymous | one-shot nvidia-smi runs it waited for | batches, series, size |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rs.map(
      (r) =>
        `| ${r.name} | **${f(r.selfPct)} %** | **${f(r.rssMedian, 0)} MiB** (${f(r.rssMax, 0)}) | ${f(r.anonMedian, 0)} MiB | ${f(r.childPct)} % | ${r.batches} in ${f(r.seconds, 0)} s, ${r.series} series, ${f(r.bytes / 1024, 0)} KiB |`,
    ),
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
