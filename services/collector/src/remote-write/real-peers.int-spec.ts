import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually, freePort, startPeer, type RunningProcess } from '@arcwatch/testing';
import { startCollector, type CollectorHarness } from '../testing/harness';

/**
 * Real peers from Debian's packages: a prometheus-node-exporter, scraped by the collector
 * directly and by a real Prometheus that forwards everything with remote_write to the collector.
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
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s }',
        'scrape_configs:',
        '  - job_name: node-via-prometheus',
        `    static_configs: [{ targets: ["127.0.0.1:${nePort}"] }]`,
        'remote_write:',
        `  - url: ${collector.url}/api/v1/write`,
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
