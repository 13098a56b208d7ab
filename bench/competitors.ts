/**
 * VictoriaMetrics and Prometheus as reference points for the query benchmark: each is loaded
 * with the same fleet history (fleet.mjs `vmjson` / `om` files), started on a private port and
 * data directory, and queried over its HTTP API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { freePort } from '@arcwatch/testing';

export interface RunningServer {
  name: string;
  baseUrl: string;
  stop(): Promise<void>;
}

/** Runs a command to completion; rejects with its stderr tail on a non-zero exit. */
export function runCommand(cmd: string, args: string[], opts: { stdoutFile?: string } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', opts.stdoutFile ? 'pipe' : 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const out = opts.stdoutFile ? pipeline(child.stdout!, createWriteStream(opts.stdoutFile)) : Promise.resolve();
    child.once('error', reject);
    child.once('exit', (code) => {
      out.then(() => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))), reject);
    });
  });
}

function startProcess(cmd: string, args: string[], logFile: string): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return child;
}

function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function httpGet(
  url: string,
  headers?: Record<string, string>,
): Promise<{ status: number; body: string; serverTiming: string | null }> {
  const res = await fetch(url, headers ? { headers } : undefined);
  return { status: res.status, body: await res.text(), serverTiming: res.headers.get('server-timing') };
}

async function waitReady(url: string, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms (${url})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** POSTs a file as the request body, streamed. */
function postFile(url: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () =>
        res.statusCode! < 300 ? resolve() : reject(new Error(`import answered ${res.statusCode}: ${body}`)),
      );
    });
    req.once('error', reject);
    pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), req).catch(reject);
  });
}

/** Series count of a selector at `timeSec`, via the instant query API. */
async function seriesCount(baseUrl: string, selector: string, timeSec: number): Promise<number> {
  const { status, body } = await httpGet(
    `${baseUrl}/api/v1/query?query=${encodeURIComponent(`count(${selector})`)}&time=${timeSec}&nocache=1`,
  );
  if (status !== 200) return 0;
  const parsed = JSON.parse(body) as { data: { result: { value: [number, string] }[] } };
  return Number(parsed.data.result[0]?.value[1] ?? 0);
}

/**
 * Starts VictoriaMetrics on an empty data directory, imports the vmjson file and waits until
 * every series of the last timestamp answers a query.
 */
export async function startVictoriaMetrics(
  dir: string,
  vmjsonFile: string,
  expect: { series: number; lastSec: number },
  extraFlags: string[] = [],
): Promise<RunningServer> {
  const port = await freePort();
  const child = startProcess(
    '/usr/bin/victoria-metrics',
    [
      '-storageDataPath',
      path.join(dir, 'vm-data'),
      '-httpListenAddr',
      `127.0.0.1:${port}`,
      '-retentionPeriod',
      '100y',
      '-loggerLevel',
      'WARN',
      ...extraFlags,
    ],
    path.join(dir, 'vm.log'),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitReady(`${baseUrl}/health`, 'VictoriaMetrics');
    await postFile(`${baseUrl}/api/v1/import`, vmjsonFile);
    const deadline = Date.now() + 300_000;
    for (;;) {
      await fetch(`${baseUrl}/internal/force_flush`).catch(() => undefined);
      if ((await seriesCount(baseUrl, '{__name__=~".+"}', expect.lastSec)) >= expect.series) break;
      if (Date.now() > deadline) throw new Error('VictoriaMetrics did not make the import queryable in 5 minutes');
      await new Promise((r) => setTimeout(r, 500));
    }
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  return { name: 'VictoriaMetrics 1.79', baseUrl, stop: () => stopProcess(child) };
}

/** Builds TSDB blocks from the OpenMetrics file with promtool and serves them with Prometheus. */
export async function startPrometheus(dir: string, omFile: string): Promise<RunningServer> {
  const tsdb = path.join(dir, 'prom-data');
  await runCommand('/usr/bin/promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '-q', omFile, tsdb]);
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(config, 'global:\n  scrape_interval: 15s\n');
  const port = await freePort();
  const child = startProcess(
    '/usr/bin/prometheus',
    [
      '--config.file',
      config,
      '--storage.tsdb.path',
      tsdb,
      '--storage.tsdb.retention.time',
      '100y',
      '--web.listen-address',
      `127.0.0.1:${port}`,
      '--log.level',
      'warn',
    ],
    path.join(dir, 'prometheus.log'),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitReady(`${baseUrl}/-/ready`, 'Prometheus');
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  return { name: 'Prometheus 2.42', baseUrl, stop: () => stopProcess(child) };
}

export function rangeQueryUrl(
  baseUrl: string,
  expr: string,
  startSec: number,
  endSec: number,
  stepSec: number,
  extra = '',
): string {
  return `${baseUrl}/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${startSec}&end=${endSec}&step=${stepSec}${extra}`;
}
