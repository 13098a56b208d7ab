/**
 * Alert latency of the anomaly service: a pushed sample that crosses a threshold → its alert
 * event published on aw.alerts.v1.…, measured from the publish of the metrics batch to the
 * arrival of the event at a subscriber, over N crossings (each one resolved before the next), with
 * the real NATS (JetStream) and PostgreSQL on this machine. Prints p50 / p95 / p99.
 *
 *   node tools/register.js services/anomaly/bench/alerts.bench.ts [crossings=200] [debounceMs=25]
 *
 * The Prometheus + Alertmanager comparison of issue 9 item 7 is not part of this script yet.
 */
import 'reflect-metadata';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  cloudEvent,
  EVENT_TYPES,
  SUBJECTS,
  type AlertV1,
  type CloudEvent,
  type MetricsBatchV1,
} from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { createTestDatabase, testNamespace } from '@arcwatch/testing';
import { createAnomalyApp } from '../src/app';
import { testConfig } from '../src/testing/anomaly-test-kit';

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const crossings = Number(process.argv[2] ?? 200);
  const debounceMs = process.argv[3] ?? '25';
  const dir = mkdtempSync(path.join(tmpdir(), 'anomaly-bench-'));
  const rules = path.join(dir, 'rules.yml');
  writeFileSync(
    rules,
    'groups:\n  - name: bench\n    interval: 1m\n    rules:\n      - alert: GpuHot\n        expr: gpu_temp > 90\n        labels: { severity: P2, team: bench }\n',
  );
  const db = await createTestDatabase();
  const ns = testNamespace();
  const app = await createAnomalyApp({
    config: testConfig(db.url, ns, { ANOMALY_RULE_FILES: rules, ANOMALY_DEBOUNCE_MS: debounceMs }),
  });
  await app.init();
  const bus = await EventBus.connect({ name: 'anomaly-bench', namespace: ns });
  const waiting = new Map<string, (at: number) => void>();
  const sub = bus.nc.subscribe(bus.naming.toWire('aw.alerts.v1.>'));
  void (async () => {
    for await (const m of sub) {
      const e = m.json<CloudEvent<AlertV1>>();
      waiting.get(`${e.data.status}/${e.data.labels.gpu}`)?.(performance.now());
    }
  })();
  const push = async (gpu: string, value: number, n: number) => {
    const at = Date.now();
    const data: MetricsBatchV1 = {
      batchId: `bench-${n}`,
      source: 'scrape',
      cluster: 'bench',
      node: 'node-1',
      target: { job: 'dcgm-exporter', instance: 'node-1:9400' },
      scrapedAtMs: at,
      series: [{ labels: { __name__: 'gpu_temp', gpu }, samples: [[at, value]] }],
    };
    await bus.publish(
      SUBJECTS.metricsSamples('bench', 'node-1'),
      cloudEvent({ id: `bench-${n}`, source: 'bench', type: EVENT_TYPES.metricsBatch, data }),
    );
  };
  const expect = (key: string) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no event ${key} within 10 s`)), 10_000);
      waiting.set(key, (at) => {
        clearTimeout(timer);
        waiting.delete(key);
        resolve(at);
      });
    });

  const latencies: number[] = [];
  let n = 0;
  for (let i = 0; i < crossings; i++) {
    const gpu = String(i % 16);
    const fired = expect(`firing/${gpu}`);
    const t0 = performance.now();
    await push(gpu, 95, ++n);
    latencies.push((await fired) - t0);
    const resolved = expect(`resolved/${gpu}`);
    await push(gpu, 70, ++n);
    await resolved;
  }
  latencies.sort((a, b) => a - b);
  const f = (v: number) => v.toFixed(1);
  process.stdout.write(
    `anomaly alert latency over ${crossings} crossings (debounce ${debounceMs} ms): p50 ${f(pct(latencies, 50))} ms, p95 ${f(pct(latencies, 95))} ms, p99 ${f(pct(latencies, 99))} ms, max ${f(latencies[latencies.length - 1])} ms\n`,
  );
  sub.unsubscribe();
  await app.close();
  for (const key of ['metrics', 'alerts', 'deadLetter'] as const)
    await bus.jsm.streams.delete(bus.streamName(key)).catch(() => false);
  await bus.drain();
  await db.drop();
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
