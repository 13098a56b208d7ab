/**
 * Notifier benchmark: (1) routing and grouping alone — alerts/s through the route tree of the
 * upstream example config into aggregation groups, with 10,000 active alerts; (2) end to end —
 * one alert POSTed to /api/v2/alerts → the webhook receiver gets it (p50 / p95 / p99), and
 * 10,000 alerts POSTed in batches until every one has been notified; the same two runs against
 * Debian's Alertmanager with the same route tree and receiver.
 *
 *   node tools/register.js services/notifier/bench/notify.bench.ts [alerts=10000] [samples=100]
 */
import 'reflect-metadata';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { parseAlertmanagerConfig } from '@arcwatch/alertmanager';
import {
  createTestDatabase,
  eventually,
  FIXTURES_DIR,
  freePort,
  startPeer,
  testNamespace,
  TEST_REDIS_URL,
} from '@arcwatch/testing';
import { createNotifierApp } from '../src/app';
import { AggregationGroups } from '../src/dispatch/dispatch.decider';
import { StandIn, testConfig } from '../src/testing/notifier-test-kit';

const ALERTS = Number(process.argv[2] ?? 10_000);
const SAMPLES = Number(process.argv[3] ?? 100);
const AM_BIN = '/usr/bin/prometheus-alertmanager';

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

function routingOnly(): string {
  const cfg = parseAlertmanagerConfig(
    readFileSync(path.join(FIXTURES_DIR, 'alertmanager', 'upstream-configs', 'simple.yml'), 'utf8'),
    'simple.yml',
  );
  const services = ['foo1', 'foo2', 'baz', 'files', 'database', 'other'];
  const alerts = Array.from({ length: ALERTS }, (_, i) => ({
    fingerprint: i.toString(16).padStart(16, '0'),
    labels: {
      alertname: `Alert${i % 50}`,
      service: services[i % services.length],
      severity: i % 3 === 0 ? 'critical' : 'warning',
      cluster: `c${i % 7}`,
      owner: i % 2 ? 'team-X' : 'team-Y',
      instance: `node-${i}`,
    },
    annotations: {},
    startsAt: new Date(),
    endsAt: null,
    generatorURL: '',
  }));
  const groups = new AggregationGroups(cfg);
  const now = new Date();
  const t0 = process.hrtime.bigint();
  for (const a of alerts) groups.insert(a, now);
  const insertMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const t1 = process.hrtime.bigint();
  const due = groups.due(new Date(now.getTime() + 3_600_000)).length;
  const dueMs = Number(process.hrtime.bigint() - t1) / 1e6;
  // Refreshing all 10,000 active alerts again (what every Prometheus resend does).
  const t2 = process.hrtime.bigint();
  for (const a of alerts) groups.insert(a, now);
  const refreshMs = Number(process.hrtime.bigint() - t2) / 1e6;
  return `| routing + grouping, ${ALERTS} new alerts (simple.yml tree) | ${Math.round(ALERTS / (insertMs / 1000)).toLocaleString('en')} alerts/s | ${groups.all().length} groups; finding the ${due} due groups ${dueMs.toFixed(1)} ms; re-inserting all ${Math.round(ALERTS / (refreshMs / 1000)).toLocaleString('en')} alerts/s |`;
}

const routeYaml = (hook: string, groupWait: string) => `route:
  receiver: hook
  group_by: [alertname, instance]
  group_wait: ${groupWait}
  group_interval: 1h
  repeat_interval: 24h
  routes:
    - matchers: [bulk="yes"]
      receiver: hook
      group_by: [alertname]
      group_interval: 1s
receivers:
  - name: hook
    webhook_configs:
      - url: ${hook}
        send_resolved: false
`;

async function endToEnd(name: string, base: string, hook: StandIn, hookPath: string): Promise<string[]> {
  const post = (alerts: unknown[]) =>
    fetch(`${base}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts),
    });
  const latencies: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const instance = `${name}-lat-${i}`;
    const before = hook.on(hookPath).length;
    const t = Date.now();
    await post([{ labels: { alertname: 'BenchLatency', instance } }]);
    const got = await eventually(
      () =>
        hook
          .on(hookPath)
          .slice(before)
          .find((r) => JSON.stringify(r.body).includes(instance)),
      30_000,
      `${name} latency ${i}`,
    );
    latencies.push(got.at - t);
  }
  const bulk = Array.from({ length: ALERTS }, (_, i) => ({
    labels: { alertname: `Bulk${i % 20}`, bulk: 'yes', instance: `${name}-bulk-${i}` },
  }));
  const seen = new Set<string>();
  const countBulk = (): number => {
    for (const r of hook.on(hookPath))
      for (const a of (r.body.alerts as { labels: { instance: string; bulk?: string } }[] | undefined) ?? [])
        if (a.labels.bulk) seen.add(a.labels.instance);
    return seen.size;
  };
  const t0 = Date.now();
  for (let i = 0; i < bulk.length; i += 500) await post(bulk.slice(i, i + 500));
  const posted = Date.now() - t0;
  await eventually(() => (countBulk() >= ALERTS ? true : undefined), 300_000, `${name} bulk`);
  const all = Date.now() - t0;
  return [
    `| ${name}: one alert POSTed → webhook received (${SAMPLES} alerts, own groups, group_wait 0s) | p50 ${pct(latencies, 50)} ms, p95 ${pct(latencies, 95)} ms, p99 ${pct(latencies, 99)} ms | |`,
    `| ${name}: ${ALERTS} alerts POSTed in batches of 500 → all of them in webhook bodies (20 groups) | ${Math.round(ALERTS / (all / 1000)).toLocaleString('en')} alerts/s | POSTs took ${posted} ms, last alert notified after ${all} ms |`,
  ];
}

async function main(): Promise<void> {
  const rows = [routingOnly()];
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-notify-bench-'));
  const hook = new StandIn();
  const hookBase = await hook.start();

  const db = await createTestDatabase();
  const ns = testNamespace();
  writeFileSync(path.join(dir, 'arcwatch.yml'), routeYaml(`${hookBase}/arcwatch`, '0s'));
  const app = await createNotifierApp({
    config: testConfig(db.url, ns, { NOTIFIER_CONFIG: path.join(dir, 'arcwatch.yml'), NOTIFIER_TICK_MS: '10' }),
  });
  const port = await freePort();
  await app.listen(port, '127.0.0.1');
  rows.push(...(await endToEnd('ArcWatch', `http://127.0.0.1:${port}`, hook, '/arcwatch')));
  await app.close();
  await db.drop();
  const redis = new Redis(TEST_REDIS_URL);
  const keys = await redis.keys(`aw-test-${ns}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();

  writeFileSync(path.join(dir, 'am.yml'), routeYaml(`${hookBase}/alertmanager`, '0s'));
  const amPort = await freePort();
  const am = startPeer(AM_BIN, [
    `--config.file=${path.join(dir, 'am.yml')}`,
    `--storage.path=${path.join(dir, 'am-data')}`,
    `--web.listen-address=127.0.0.1:${amPort}`,
    '--cluster.listen-address=',
  ]);
  await eventually(
    async () =>
      (await fetch(`http://127.0.0.1:${amPort}/-/ready`)
        .then((r) => r.ok)
        .catch(() => false)) || undefined,
    30_000,
    'alertmanager ready',
  );
  const version = (/version=(\d+\.\d+\.\d+)/.exec(am.log()) ?? [])[1] ?? 'Debian';
  rows.push(...(await endToEnd(`Alertmanager ${version}`, `http://127.0.0.1:${amPort}`, hook, '/alertmanager')));
  await am.stop();
  await hook.stop();

  console.log('| what | result | notes |\n| --- | --- | --- |');
  for (const r of rows) console.log(r);
  process.exit(0);
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
