/**
 * The reference: a real Prometheus (Debian's 2.42 package) serving blocks built by promtool from
 * the same samples ArcWatch ingests. The blocks lie in the past and the head stays empty, so
 * nothing the server appends can overlap them; retention is set far out so that the server does
 * not delete them at start.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Labels } from '@arcwatch/contracts';
import { freePort } from '@arcwatch/testing';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';
export const PROMTOOL_BIN = '/usr/bin/promtool';

const run = promisify(execFile);

/** A query outcome in plain numbers, the same shape for both systems. */
export type QueryOutcome =
  | { ok: true; type: 'scalar'; timeMs: number; value: number }
  | { ok: true; type: 'vector'; samples: { labels: Labels; timeMs: number; value: number }[] }
  | { ok: true; type: 'matrix'; series: { labels: Labels; timestamps: number[]; values: number[] }[] }
  | { ok: true; type: 'string'; value: string }
  | { ok: false; error: string };

export function parsePromValue(s: string): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  return Number(s);
}

/** Builds TSDB blocks from an OpenMetrics file (promtool cuts them at 2 h boundaries). */
export async function createBlocks(openMetricsFile: string, dataDir: string): Promise<string> {
  mkdirSync(dataDir, { recursive: true });
  const { stdout, stderr } = await run(
    PROMTOOL_BIN,
    ['tsdb', 'create-blocks-from', 'openmetrics', openMetricsFile, dataDir],
    { maxBuffer: 64 << 20 },
  );
  return `${stdout}${stderr}`;
}

type ApiBody =
  | {
      status: 'success';
      data:
        | { resultType: 'scalar' | 'string'; result: [number, string] }
        | { resultType: 'vector'; result: { metric: Labels; value: [number, string] }[] }
        | { resultType: 'matrix'; result: { metric: Labels; values: [number, string][] }[] };
    }
  | { status: 'error'; errorType: string; error: string };

export class PrometheusReference {
  private readonly output: string[] = [];

  private constructor(
    private readonly proc: ChildProcess,
    readonly url: string,
  ) {
    const keep = (b: Buffer) => {
      this.output.push(b.toString());
      if (this.output.length > 200) this.output.shift();
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
  }

  /** Starts Prometheus on a free loopback port over `dataDir` and waits until it is ready. */
  static async start(dataDir: string): Promise<PrometheusReference> {
    const config = path.join(dataDir, '..', 'prometheus-empty.yml');
    writeFileSync(config, '');
    const port = await freePort();
    const proc = spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${dataDir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=10y',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const ref = new PrometheusReference(proc, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}: ${ref.log().slice(-2000)}`);
      try {
        if ((await fetch(`${ref.url}/-/ready`)).ok) return ref;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await ref.stop();
        throw new Error(`prometheus not ready after 30 s: ${ref.log().slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  log(): string {
    return this.output.join('');
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await exited;
  }

  instantQuery(query: string, timeMs: number): Promise<QueryOutcome> {
    return this.call('/api/v1/query', { query, time: String(timeMs / 1000) });
  }

  rangeQuery(query: string, startMs: number, endMs: number, stepMs: number): Promise<QueryOutcome> {
    return this.call('/api/v1/query_range', {
      query,
      start: String(startMs / 1000),
      end: String(endMs / 1000),
      step: String(stepMs / 1000),
    });
  }

  private async call(endpoint: string, params: Record<string, string>): Promise<QueryOutcome> {
    const res = await fetch(`${this.url}${endpoint}`, { method: 'POST', body: new URLSearchParams(params) });
    const body = (await res.json()) as ApiBody;
    if (body.status === 'error') return { ok: false, error: `${body.errorType}: ${body.error}` };
    const d = body.data;
    switch (d.resultType) {
      case 'scalar':
        return { ok: true, type: 'scalar', timeMs: Math.round(d.result[0] * 1000), value: parsePromValue(d.result[1]) };
      case 'string':
        return { ok: true, type: 'string', value: d.result[1] };
      case 'vector':
        return {
          ok: true,
          type: 'vector',
          samples: d.result.map((s) => ({
            labels: s.metric,
            timeMs: Math.round(s.value[0] * 1000),
            value: parsePromValue(s.value[1]),
          })),
        };
      case 'matrix':
        return {
          ok: true,
          type: 'matrix',
          series: d.result.map((s) => ({
            labels: s.metric,
            timestamps: s.values.map((p) => Math.round(p[0] * 1000)),
            values: s.values.map((p) => parsePromValue(p[1])),
          })),
        };
    }
  }
}
