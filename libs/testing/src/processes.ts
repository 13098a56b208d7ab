/**
 * Programs as their own processes, the way `npm start` runs them (`node tools/register.js
 * <entry>`), real peers (prometheus, nats-server, …), and free loopback ports for them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { withAuth } from './auth';
import { REPO_ROOT } from './paths';

const NODE = path.join(REPO_ROOT, 'node_modules', '.bin', 'node');

export interface RunningProcess {
  name: string;
  child: ChildProcess;
  /** What it printed (stdout and stderr, the last few hundred chunks). */
  log(): string;
  /** Sends `signal` (SIGTERM by default), SIGKILL after 10 s, and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function track(name: string, child: ChildProcess): RunningProcess {
  const chunks: string[] = [];
  const keep = (b: Buffer) => {
    chunks.push(b.toString('utf8'));
    if (chunks.length > 400) chunks.splice(0, chunks.length - 400);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    name,
    child,
    exited,
    log: () => chunks.join(''),
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** An ArcWatch entry point (e.g. services/collector/src/main.ts) as its own process. */
export function startProcess(name: string, entry: string, args: string[], env: Record<string, string>): RunningProcess {
  const child = spawn(NODE, [path.join(REPO_ROOT, 'tools/register.js'), path.join(REPO_ROOT, entry), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(name, child);
}

/** A binary that is not ours (prometheus, alertmanager, nats-server…), stopped by its PID only. */
export function startPeer(bin: string, args: string[], env: Record<string, string> = {}): RunningProcess {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  return track(path.basename(bin), child);
}

/**
 * Ports for the processes a test starts come from 20000–32767, below Linux's ephemeral range
 * (32768–60999): a port the kernel handed out for `listen(0)` is also one it may hand to any
 * outgoing connection of the many processes a test runs (to PostgreSQL, NATS, Redis) before the
 * service binds it, and the service then exits with EADDRINUSE. Jest's workers are separate
 * processes that cannot see each other's hand-outs, so each takes its own slice of the range
 * (by JEST_WORKER_ID, up to four workers; 3,192 ports each).
 */
const PORT_SLICES = 4;
const PORT_SPAN = Math.floor(12_768 / PORT_SLICES);
const PORT_LOW = 20_000 + ((Math.max(1, Number(process.env.JEST_WORKER_ID ?? 1)) - 1) % PORT_SLICES) * PORT_SPAN;
const handedOut = new Set<number>();

/** A port that was free a moment ago, outside the ephemeral range. */
export async function freePort(): Promise<number> {
  return freePortRange(1);
}

/** `count` consecutive free ports starting somewhere in this process's slice of 20000–32767. */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = PORT_LOW + Math.floor(Math.random() * (PORT_SPAN - count));
    const ports = Array.from({ length: count }, (_, i) => base + i);
    // Not yet bound is not enough: a port handed out here before may not have been bound yet either.
    if (ports.some((p) => handedOut.has(p))) continue;
    const ok = await Promise.all(ports.map(canBind));
    if (ok.every(Boolean) && !ports.some((p) => handedOut.has(p))) {
      for (const p of ports) handedOut.add(p);
      return base;
    }
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** GET (or `init`) with the test admin token unless `init` names an Authorization header. */
export async function getJson<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(url, withAuth(init));
  return { status: res.status, body: (await res.json()) as T };
}
