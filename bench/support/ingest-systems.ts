/**
 * The systems under the ingest benchmark, each on private ports: the ArcWatch collector (fresh
 * database, unique NATS namespace) as one process of role `all`, or split into a `scraper`
 * process that takes the pushes and a `writer` process that stores and answers queries; and
 * VictoriaMetrics (fresh data directory). All take the same pushes on /api/v1/import/prometheus.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { REPO_ROOT, TEST_AUTH_ENV, authFetch, authHeaders, freePort } from '@arcwatch/testing';
import { importPath, type NodePush } from './fleet-pushes';

export interface RunningSystem {
  name: string;
  /** Every server process of the system: their CPU is what the benchmark counts. */
  pids: number[];
  /** Where the pushes go. */
  baseUrl: string;
  /** Where the query API answers (the writer, in the split layout). */
  queryUrl: string;
  stop(): Promise<void>;
}

function startProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const child = spawn(cmd, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return child;
}

function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

async function waitReady(
  url: string,
  what: string,
  child: ChildProcess,
  logFile: string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${what} exited with ${child.exitCode} before it was ready; see ${logFile}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms (${url}); see ${logFile}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export type CollectorLayout = 'all' | 'split';

export interface CollectorProcessOptions {
  /** `all`: one process; `split`: COLLECTOR_ROLE=scraper and COLLECTOR_ROLE=writer processes. */
  layout: CollectorLayout;
  databaseUrl: string;
  namespace: string;
  writerBatch: number;
  logDir: string;
  /** Directory for a CPU profile of the collector (written when the benchmark stops it). */
  cpuProfileDir?: string;
  /**
   * COLLECTOR_COMPACT_AFTER_MS; default an hour, which keeps compaction (it has its own benchmark
   * in libs/storage/bench) from folding the oldest scrapes in the middle of a timed window.
   */
  compactAfterMs?: number;
}

interface CollectorProcess {
  child: ChildProcess;
  baseUrl: string;
  stop(): Promise<void>;
}

async function startOneCollector(
  opts: CollectorProcessOptions,
  role: 'all' | 'scraper' | 'writer',
): Promise<CollectorProcess> {
  const port = await freePort();
  const logFile = path.join(opts.logDir, `collector-${role}.log`);
  const entry = opts.cpuProfileDir ? 'bench/support/profiled-collector.ts' : 'services/collector/src/main.ts';
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: opts.databaseUrl,
    NATS_NAMESPACE: opts.namespace,
    COLLECTOR_PORT: String(port),
    COLLECTOR_HOST: '127.0.0.1',
    COLLECTOR_ROLE: role,
    COLLECTOR_WRITER_BATCH: String(opts.writerBatch),
    COLLECTOR_COMPACT_AFTER_MS: String(opts.compactAfterMs ?? 3_600_000),
    LOG_LEVEL: 'warn',
    // pushes and queries go with the test admin token (every collector route needs one)
    ...TEST_AUTH_ENV,
    ...(opts.cpuProfileDir ? { ARCWATCH_CPU_PROFILE_DIR: opts.cpuProfileDir } : {}),
  };
  const child = startProcess(
    path.join(REPO_ROOT, 'node_modules/.bin/node'),
    ['tools/register.js', entry],
    env,
    logFile,
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitReady(`${baseUrl}/readyz`, 'collector', child, logFile);
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  return {
    child,
    baseUrl,
    async stop() {
      if (opts.cpuProfileDir) {
        child.kill('SIGUSR2');
        await new Promise((r) => setTimeout(r, 3000));
      }
      await stopProcess(child);
    },
  };
}

export async function startCollectorProcess(opts: CollectorProcessOptions): Promise<RunningSystem> {
  if (opts.layout === 'all') {
    const all = await startOneCollector(opts, 'all');
    return {
      name: 'ArcWatch',
      pids: [all.child.pid!],
      baseUrl: all.baseUrl,
      queryUrl: all.baseUrl,
      stop: () => all.stop(),
    };
  }
  // The writer first: it migrates the schema and creates the durable the scraper's batches wait in.
  const writer = await startOneCollector(opts, 'writer');
  let scraper: CollectorProcess;
  try {
    scraper = await startOneCollector(opts, 'scraper');
  } catch (err) {
    await writer.stop();
    throw err;
  }
  return {
    name: 'ArcWatch, scraper + writer processes',
    pids: [scraper.child.pid!, writer.child.pid!],
    baseUrl: scraper.baseUrl,
    queryUrl: writer.baseUrl,
    async stop() {
      await scraper.stop();
      await writer.stop();
    },
  };
}

export async function startVictoriaMetrics(dataDir: string, logDir: string): Promise<RunningSystem> {
  const port = await freePort();
  const logFile = path.join(logDir, 'victoria-metrics.log');
  const child = startProcess(
    '/usr/bin/victoria-metrics',
    [
      '-storageDataPath',
      dataDir,
      '-httpListenAddr',
      `127.0.0.1:${port}`,
      '-retentionPeriod',
      '100y',
      '-loggerLevel',
      'WARN',
    ],
    process.env,
    logFile,
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitReady(`${baseUrl}/health`, 'VictoriaMetrics', child, logFile);
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  return {
    name: 'VictoriaMetrics 1.79',
    pids: [child.pid!],
    baseUrl,
    queryUrl: baseUrl,
    stop: () => stopProcess(child),
  };
}

/**
 * POSTs every push to `baseUrl` with `concurrency` requests in flight over kept-alive
 * connections (`agent`'s, when given, kept open for the next call); rejects on the first answer
 * that is not 2xx.
 */
export async function pushAll(
  baseUrl: string,
  pushes: readonly Pick<NodePush, 'host' | 'body'>[],
  concurrency: number,
  shared?: http.Agent,
): Promise<void> {
  const url = new URL(baseUrl);
  const agent = shared ?? new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < pushes.length) {
      const p = pushes[next++]!;
      await post(url, importPath(p.host), p.body, agent);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    if (!shared) agent.destroy();
  }
}

function post(base: URL, pathAndQuery: string, body: string, agent: http.Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        path: pathAndQuery,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'text/plain; version=0.0.4',
          'content-length': Buffer.byteLength(body),
          ...authHeaders(),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () =>
          res.statusCode! < 300
            ? resolve()
            : reject(new Error(`${pathAndQuery} answered ${res.statusCode}: ${text.slice(0, 500)}`)),
        );
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

/** The single value of an instant query (0 when the result is empty or the query failed). */
export async function instantValue(baseUrl: string, expr: string, timeSec: number): Promise<number> {
  const res = await authFetch(`${baseUrl}/api/v1/query?query=${encodeURIComponent(expr)}&time=${timeSec}&nocache=1`);
  if (!res.ok) return 0;
  const parsed = (await res.json()) as { data?: { result?: Array<{ value: [number, string] }> } };
  return Number(parsed.data?.result?.[0]?.value[1] ?? 0);
}
