import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  TEST_ADMIN_TOKEN,
  TEST_INGEST_TOKEN,
  eventually,
  freePort,
  startPeer,
  type RunningProcess,
} from '@arcwatch/testing';
import { startCollector, type CollectorHarness } from '../testing/harness';

/**
 * Real peers from Debian's packages: a prometheus-node-exporter, scraped by the collector
 * directly and by a real Prometheus that forwards everything with remote_write to the collector.
 * Prometheus authenticates with its own settings: remote_write's `authorization` (an ingest
 * token) and a scrape job's `authorization` for the collector's /metrics (a job without it is
 * refused, so its `up` is 0).
 */
const PROMETHEUS = '/usr/bin/prometheus';
const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';

describe('real Prometheus and node-exporter', () => {
  let dir: string;
  let collector: CollectorHarness;
  let nodeExporter: RunningProcess | undefined;
  let prometheus: RunningProcess | undefined;
  let nePort: number;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'collector-peers-'));
    nePort = await freePort();
    nodeExporter = startPeer(NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${nePort}`]);
    await eventually(
      async () => ((await fetch(`http://127.0.0.1:${nePort}/metrics`)).ok ? true : undefined),
      20_000,
      'node-exporter up',
    );
    collector = await startCollector(
      [
        'global: { scrape_interval: 1s, scrape_timeout: 1s }',
        'scrape_configs:',
        '  - job_name: node-direct',
        `    static_configs: [{ targets: ["127.0.0.1:${nePort}"] }]`,
      ].join('\n'),
    );
    const promPort = await freePort();
    const collectorTarget = new URL(collector.url).host;
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s }',
        'scrape_configs:',
        '  - job_name: node-via-prometheus',
        `    static_configs: [{ targets: ["127.0.0.1:${nePort}"] }]`,
        '  - job_name: collector-self',
        `    authorization: { credentials: ${TEST_ADMIN_TOKEN} }`,
        `    static_configs: [{ targets: ["${collectorTarget}"] }]`,
        '  - job_name: collector-anonymous',
        `    static_configs: [{ targets: ["${collectorTarget}"] }]`,
        'remote_write:',
        `  - url: ${collector.url}/api/v1/write`,
        `    authorization: { credentials: ${TEST_INGEST_TOKEN} }`,
        '    queue_config: { batch_send_deadline: 1s, max_shards: 2 }',
      ].join('\n'),
    );
    prometheus = startPeer(PROMETHEUS, [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);
  });

  afterAll(async () => {
    for (const p of [prometheus, nodeExporter]) await p?.stop();
    await collector?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("receives a real Prometheus's remote_write and stores the node-exporter series", async () => {
    const series = await eventually(
      async () => {
        const s = await collector.store.series(
          [
            [
              { name: 'job', type: '=', value: 'node-via-prometheus' },
              { name: '__name__', type: '=', value: 'node_cpu_seconds_total' },
            ],
          ],
          0,
          Date.now() + 60_000,
        );
        return s.length > 0 ? s : undefined;
      },
      45_000,
      `remote-written node series (prometheus said: ${prometheus?.log().slice(-500)})`,
    );
    expect(series[0]).toMatchObject({
      __name__: 'node_cpu_seconds_total',
      job: 'node-via-prometheus',
      instance: `127.0.0.1:${nePort}`,
      mode: expect.any(String),
    });
    const up = await eventually(
      async () => {
        const s = await collector.store.select(
          [
            { name: '__name__', type: '=', value: 'up' },
            { name: 'job', type: '=', value: 'node-via-prometheus' },
          ],
          0,
          Date.now() + 60_000,
        );
        return s.length > 0 ? s : undefined;
      },
      20_000,
      'remote-written up',
    );
    expect(up).toHaveLength(1);
    expect(Array.from(up[0].values)).toContain(1);
  }, 60_000);

  it("lets Prometheus scrape the collector's /metrics with its token and refuses it without", async () => {
    const upOf = (job: string) =>
      eventually(
        async () => {
          const s = await collector.store.select(
            [
              { name: '__name__', type: '=', value: 'up' },
              { name: 'job', type: '=', value: job },
            ],
            0,
            Date.now() + 60_000,
          );
          return s.length > 0 ? Array.from(s[0]!.values) : undefined;
        },
        30_000,
        `remote-written up of ${job}`,
      );
    expect(await upOf('collector-self')).toContain(1);
    const anonymous = await upOf('collector-anonymous');
    expect(anonymous).toContain(0);
    expect(anonymous).not.toContain(1);
  }, 60_000);

  it('scrapes a real node-exporter itself', async () => {
    const up = await eventually(
      async () => {
        const s = await collector.store.select(
          [
            { name: '__name__', type: '=', value: 'up' },
            { name: 'job', type: '=', value: 'node-direct' },
          ],
          0,
          Date.now() + 60_000,
        );
        return s.length > 0 ? s : undefined;
      },
      20_000,
      'node-direct scraped',
    );
    expect(up[0].values[0]).toBe(1);
    const names = await collector.store.labelValues(
      '__name__',
      [[{ name: 'job', type: '=', value: 'node-direct' }]],
      0,
      Date.now() + 60_000,
    );
    const missing = [
      'node_cpu_seconds_total',
      'node_memory_MemTotal_bytes',
      'up',
      'scrape_duration_seconds',
      'scrape_samples_scraped',
    ].filter((n) => !names.includes(n));
    expect(missing).toEqual([]);
  });
});
