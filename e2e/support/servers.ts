/**
 * A test's own nats-server, PostgreSQL cluster and redis-server on free loopback ports, for the
 * tests that stop and restart a server. The shared servers on 4222 / 5432 / 6379 serve every
 * other test on the machine and are never restarted. Each server keeps its data directory and
 * port across `restart()`, as a restarted production server would.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '@arcwatch/testing';

const PG_BIN = process.env.ARCWATCH_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** PostgreSQL refuses to run as root: as root, the cluster belongs to this account. */
function pgAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root and /etc/passwd has no postgres account to run PostgreSQL as');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** True once something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitPort(name: string, port: number, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(port))) {
    if (Date.now() > deadline)
      throw new Error(`${name} did not listen on 127.0.0.1:${port} in ${timeoutMs} ms\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One server process that can be stopped and started again with the same arguments. */
export class OwnServer {
  private child: ChildProcess | undefined;
  private output: string[] = [];

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly bin: string,
    private readonly args: string[],
    private readonly account?: { uid: number; gid: number },
    /** Ready once the port accepts connections, unless this says more. */
    private readonly ready: () => Promise<boolean> = () => portOpen(port),
    private readonly env: Record<string, string> = {},
  ) {}

  log(): string {
    return this.output.join('');
  }

  async start(timeoutMs = 30_000): Promise<void> {
    const child = spawn(this.bin, this.args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.env },
      ...(this.account ?? {}),
    });
    const keep = (b: Buffer) => {
      this.output.push(b.toString('utf8'));
      if (this.output.length > 300) this.output.splice(0, this.output.length - 300);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.child = child;
    await waitPort(this.name, this.port, timeoutMs, () => this.log());
    const deadline = Date.now() + timeoutMs;
    while (!(await this.ready())) {
      if (Date.now() > deadline) throw new Error(`${this.name} not ready in ${timeoutMs} ms\n${this.log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sends `signal` to this server's own process (by its PID) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    // The port is free once the kernel released it; the next start binds the same one.
    const deadline = Date.now() + 10_000;
    while ((await portOpen(this.port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }

  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    await this.start();
  }
}

/**
 * nats-server with JetStream storing in `dir/nats`; `config` is written to a file and passed with
 * -c, `env` is the server's environment (a config's `$VARIABLE`s, e.g. passwords).
 */
export async function ownNats(
  dir: string,
  config = '',
  env: Record<string, string> = {},
): Promise<OwnServer & { url: string }> {
  const port = await freePort();
  const store = path.join(dir, 'nats');
  fs.mkdirSync(store, { recursive: true });
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store];
  if (config) {
    const file = path.join(dir, 'nats.conf');
    fs.writeFileSync(file, config);
    args.unshift('-c', file);
  }
  const server = new OwnServer('nats-server', port, 'nats-server', args, undefined, undefined, env);
  await server.start();
  return Object.assign(server, { url: `nats://127.0.0.1:${port}` });
}

/**
 * A PostgreSQL cluster initdb'd in `dir/pg` (trust on loopback, fsync off: a restart here is the
 * server's, not the machine's). `url(db)` names a database on it; `createDatabase` makes one.
 */
export async function ownPostgres(
  dir: string,
): Promise<OwnServer & { url: (db?: string) => string; createDatabase: (name: string) => void }> {
  const port = await freePort();
  const data = path.join(dir, 'pg');
  const account = pgAccount();
  fs.mkdirSync(data, { recursive: true, mode: 0o700 });
  if (account) {
    // The account must reach its data directory through the test's (private) directory.
    fs.chmodSync(dir, 0o711);
    fs.chownSync(data, account.uid, account.gid);
  }
  execFileSync(
    path.join(PG_BIN, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'],
    { stdio: 'pipe', ...(account ?? {}) },
  );
  const args = ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', data];
  for (const setting of ['fsync=off', 'full_page_writes=off', 'max_connections=200', 'shared_buffers=64MB'])
    args.push('-c', setting);
  const url = (db = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${db}`;
  const server = new OwnServer('postgres', port, path.join(PG_BIN, 'postgres'), args, account, async () => {
    try {
      execFileSync(path.join(PG_BIN, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q'], { stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  });
  await server.start();
  const createDatabase = (name: string) =>
    execFileSync(path.join(PG_BIN, 'psql'), [url(), '-qc', `CREATE DATABASE ${name}`], { stdio: 'pipe' });
  return Object.assign(server, { url, createDatabase });
}

/** redis-server with an append-only file fsynced on every write, so BullMQ's jobs survive a restart. */
export async function ownRedis(dir: string): Promise<OwnServer & { url: string }> {
  const port = await freePort();
  const data = path.join(dir, 'redis');
  fs.mkdirSync(data, { recursive: true });
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', data, '--save', ''];
  args.push('--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction');
  const server = new OwnServer('redis-server', port, 'redis-server', args);
  await server.start();
  return Object.assign(server, { url: `redis://127.0.0.1:${port}` });
}

/**
 * nats-server × `nodes` as one JetStream cluster on loopback ports (client and route port per
 * node), each storing in `dir/nats-n<i>`; `url` lists every node, as a client is given them.
 * Streams created with `NATS_STREAM_REPLICAS=3` are replicated to three of them.
 */
export async function ownNatsCluster(
  dir: string,
  nodes = 3,
): Promise<{ url: string; nodes: OwnServer[]; stop: () => Promise<void> }> {
  const clientPorts: number[] = [];
  const routePorts: number[] = [];
  for (let i = 0; i < nodes; i++) {
    clientPorts.push(await freePort());
    routePorts.push(await freePort());
  }
  const routes = routePorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
  const servers = clientPorts.map((port, i) => {
    const store = path.join(dir, `nats-n${i}`);
    fs.mkdirSync(store, { recursive: true });
    const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-n', `aw-n${i}`, '-sd', store];
    args.push('--cluster_name', 'aw', '--cluster', `nats://127.0.0.1:${routePorts[i]}`, '--routes', routes);
    return new OwnServer(`nats-server n${i}`, port, 'nats-server', args);
  });
  const stop = async () => {
    for (const s of servers) await s.stop();
  };
  try {
    await Promise.all(servers.map((s) => s.start()));
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: clientPorts.map((p) => `nats://127.0.0.1:${p}`).join(','), nodes: servers, stop };
}
