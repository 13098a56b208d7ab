/**
 * The same threshold crossings through Debian's Prometheus and Alertmanager: Prometheus scrapes a
 * tiny HTTP target every second and evaluates `gpu_temp > 90` every second, sends to
 * Alertmanager (one group per alert, group_wait 0s, group_interval 1s), whose webhook receiver is
 * an HTTP server in this process. Latency runs from the moment the target's value changes to the
 * moment the webhook POST carrying the firing alert has arrived.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually, freePort, startPeer, type RunningProcess } from '@arcwatch/testing';
import { CROSSING_GPUS, ruleGroup } from './crossings';

const PROMETHEUS = ['/usr/bin/prometheus'].find((p) => existsSync(p));
const ALERTMANAGER = ['/usr/bin/prometheus-alertmanager', '/usr/bin/alertmanager'].find((p) => existsSync(p));

export interface PeerRun {
  latencies: number[];
  versions: { prometheus: string; alertmanager: string };
  wallMs: number;
}

export function peerAvailable(): string | undefined {
  if (!PROMETHEUS) return 'prometheus is not installed (Debian package prometheus)';
  if (!ALERTMANAGER) return 'alertmanager is not installed (Debian package prometheus-alertmanager)';
  return undefined;
}

function version(bin: string): string {
  const out = execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return /version (\S+)/.exec(out)?.[1] ?? '?';
}

function listen(handler: http.RequestListener): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runPrometheusPeer(crossings: number, log: (line: string) => void): Promise<PeerRun> {
  const started = performance.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'anomaly-bench-prom-'));
  const temps = new Map(CROSSING_GPUS.map((g) => [g, 70]));
  const target = await listen((req, res) => {
    let body = '# HELP gpu_temp GPU temperature (bench target).\n# TYPE gpu_temp gauge\n';
    for (const [gpu, v] of temps) body += `gpu_temp{gpu="${gpu}"} ${v}\n`;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
  });
  const waiting = new Map<string, (at: number) => void>();
  const webhook = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      res.writeHead(200).end();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          alerts: Array<{ status: string; labels: Record<string, string> }>;
        };
        for (const a of body.alerts) waiting.get(`${a.status}/${a.labels.gpu}`)?.(at);
      } catch {
        // Not a webhook body: nothing waits for it.
      }
    });
  });
  const [promPort, amPort, amCluster] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(
    path.join(dir, 'alertmanager.yml'),
    [
      'route:',
      '  receiver: bench',
      "  group_by: ['...']",
      '  group_wait: 0s',
      '  group_interval: 1s',
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: bench',
      '    webhook_configs:',
      `      - url: http://127.0.0.1:${webhook.port}/`,
      '        send_resolved: true',
      '',
    ].join('\n'),
  );
  writeFileSync(path.join(dir, 'rules.yml'), ruleGroup('1s'));
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files: [rules.yml]',
      'alerting:',
      '  alertmanagers:',
      `    - static_configs: [{ targets: ['127.0.0.1:${amPort}'] }]`,
      'scrape_configs:',
      '  - job_name: bench',
      `    static_configs: [{ targets: ['127.0.0.1:${target.port}'] }]`,
      '',
    ].join('\n'),
  );
  const procs: RunningProcess[] = [];
  try {
    procs.push(
      startPeer(ALERTMANAGER!, [
        `--config.file=${path.join(dir, 'alertmanager.yml')}`,
        `--storage.path=${path.join(dir, 'am-data')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        `--cluster.listen-address=127.0.0.1:${amCluster}`,
      ]),
    );
    procs.push(
      startPeer(PROMETHEUS!, [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'prom-data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ]),
    );
    for (const [name, url] of [
      ['alertmanager', `http://127.0.0.1:${amPort}/-/ready`],
      ['prometheus', `http://127.0.0.1:${promPort}/-/ready`],
    ] as const)
      await eventually(
        async () => ((await fetch(url).catch(() => undefined))?.ok ? true : undefined),
        60_000,
        `${name} ready`,
      );
    // The target has been scraped and the rule evaluated at least once.
    await eventually(
      async () => {
        const r = (await (
          await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent('count(gpu_temp)')}`)
        ).json()) as { data: { result: Array<{ value: [number, string] }> } };
        return r.data.result[0]?.value[1] === String(CROSSING_GPUS.length) ? true : undefined;
      },
      60_000,
      'prometheus scraping the bench target',
    );
    await sleep(2_000);

    const expect = (key: string) =>
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no webhook ${key} within 30 s`)), 30_000);
        waiting.set(key, (at) => {
          clearTimeout(timer);
          waiting.delete(key);
          resolve(at);
        });
      });
    const latencies: number[] = [];
    for (let i = 0; i < crossings; i++) {
      const gpu = CROSSING_GPUS[i % CROSSING_GPUS.length];
      // A random phase against the 1 s scrape and evaluation ticks, as a real crossing would have.
      await sleep(Math.random() * 1_000);
      const fired = expect(`firing/${gpu}`);
      temps.set(gpu, 95);
      const t0 = performance.now();
      latencies.push((await fired) - t0);
      const resolved = expect(`resolved/${gpu}`);
      temps.set(gpu, 70);
      await resolved;
      if ((i + 1) % 50 === 0) log(`  prometheus + alertmanager: ${i + 1} / ${crossings} crossings`);
    }
    return {
      latencies,
      versions: { prometheus: version(PROMETHEUS!), alertmanager: version(ALERTMANAGER!) },
      wallMs: performance.now() - started,
    };
  } finally {
    for (const p of procs.reverse()) await p.stop();
    target.server.close();
    webhook.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
