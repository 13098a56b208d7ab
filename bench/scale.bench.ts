/**
 * Scale-out benchmark: what a second collector writer and a three-node NATS cluster do to ingest,
 * and how long the pipeline takes end to end.
 *
 *   npm run bench:scale -- [--nodes 125] [--scrapes 8] [--concurrency 16] [--repeat 2]
 *                          [--count 20] [--parts ingest,latency] [--no-docs]
 *
 * (a) Ingest, push → queryable: the reference fleet's per-node pushes (bench/support/fleet-pushes)
 *     to a COLLECTOR_ROLE=scraper process, stored by one or two COLLECTOR_ROLE=writer processes
 *     sharing the durable consumer, on a nats-server of the run's own (streams R1) or a
 *     three-node JetStream cluster on loopback ports (NATS_STREAM_REPLICAS=3); the clock runs
 *     from the first push until the first writer's query API counts every sample. Each layout
 *     runs `repeat` times, the order reversed on every other pass so that drift in the machine's
 *     load does not favour one.
 * (b) Latency, one process per service on the shared servers (e2e/support/stack.ts):
 *     - a request's last lifecycle event POSTed to tracing → billing's cost.allocated event for
 *       it on NATS (each request its own tenant; billing's windows as the e2e stack sets them);
 *     - a sample over a rule's threshold pushed to the collector → the notification for it at a
 *       webhook stand-in (anomaly evaluates, the notifier routes and delivers).
 * Writes the generated block of `## Scale-out` in docs/benchmarks.md unless --no-docs.
 */
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventBus } from '@arcwatch/messaging';
import { REPO_ROOT, authHeaders, eventually, freePort } from '@arcwatch/testing';
import { ownNats, ownNatsCluster } from '../e2e/support/servers';
import { startStack } from '../e2e/support/stack';
import { buildWorkload, STEP_MS, type IngestWorkload } from './support/fleet-pushes';
import { describeMachine, fmt, machineInfo, writeGeneratedBlock } from './support/ingest-report';
import { instantValue, pushAll } from './support/ingest-systems';
import { benchArgs } from './support/args';

const args = benchArgs();
const NODES = Number(args.get('nodes') ?? 125);
const SCRAPES = Number(args.get('scrapes') ?? 8);
const CONCURRENCY = Number(args.get('concurrency') ?? 16);
const REPEAT = Number(args.get('repeat') ?? 2);
const COUNT = Number(args.get('count') ?? 20);
const PARTS = (args.get('parts') ?? 'ingest,latency').split(',');
const WRITE_DOCS = !args.has('no-docs');
const QUERYABLE_TIMEOUT_MS = 600_000;

const log = (msg: string): void => void process.stdout.write(`${msg}\n`);
const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

interface Layout {
  name: string;
  writers: number;
  natsNodes: 1 | 3;
}

const LAYOUTS: Layout[] = [
  { name: '1 writer, NATS 1 node (R1)', writers: 1, natsNodes: 1 },
  { name: '2 writers, NATS 1 node (R1)', writers: 2, natsNodes: 1 },
  { name: '1 writer, NATS 3 nodes (R3)', writers: 1, natsNodes: 3 },
  { name: '2 writers, NATS 3 nodes (R3)', writers: 2, natsNodes: 3 },
];

/** A JetStream that answers (a cluster needs its meta leader elected first). */
async function jetStreamReady(url: string): Promise<void> {
  await eventually(
    async () => {
      const bus = await EventBus.connect({ url, name: 'bench-scale-probe' });
      try {
        await bus.jsm.getAccountInfo();
        return true;
      } finally {
        await bus.drain();
      }
    },
    60_000,
    `JetStream at ${url}`,
  );
}

async function ingestOnce(w: IngestWorkload, layout: Layout): Promise<{ pushS: number; queryableS: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aw-scale-'));
  const nats =
    layout.natsNodes === 3
      ? await ownNatsCluster(dir, 3)
      : await ownNats(dir).then((n) => ({ url: n.url, stop: () => n.stop() }));
  try {
    await jetStreamReady(nats.url);
    const stack = await startStack({
      services: ['collector'],
      replicas: { collector: 1 + layout.writers },
      replicaEnv: (_svc, i) => ({ COLLECTOR_ROLE: i === 0 ? 'scraper' : 'writer' }),
      commonEnv: {
        NATS_URL: nats.url,
        NATS_STREAM_REPLICAS: String(layout.natsNodes),
        LOG_LEVEL: 'warn',
        // Compaction has its own benchmark (libs/storage/bench): held off in the timed window.
        COLLECTOR_COMPACT_AFTER_MS: String(3_600_000),
      },
    });
    try {
      const expected = w.samplesPerScrape * w.scrapes;
      const expr = `sum(count_over_time({__name__=~".+"}[${(w.scrapes * STEP_MS) / 1000}s]))`;
      const t0 = performance.now();
      await pushAll(stack.url('collector', 0), w.pushes, CONCURRENCY);
      const pushed = performance.now();
      const deadline = Date.now() + QUERYABLE_TIMEOUT_MS;
      let total = 0;
      while ((total = await instantValue(stack.url('collector', 1), expr, w.lastTimestampMs / 1000)) !== expected) {
        if (total > expected) throw new Error(`${layout.name}: ${total} samples queryable, ${expected} pushed`);
        if (Date.now() > deadline) throw new Error(`${layout.name}: ${total} of ${expected} queryable in time`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const done = performance.now();
      return { pushS: (pushed - t0) / 1000, queryableS: (done - t0) / 1000 };
    } finally {
      await stack.stop();
    }
  } finally {
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

interface Latencies {
  cost: number[];
  alert: number[];
  settings: string;
}

async function latencies(): Promise<Latencies> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aw-scale-latency-'));
  const hook = http.createServer();
  const notifiedAt = new Map<string, number>();
  hook.on('request', (req, res) => {
    let body = '';
    req.on('data', (b: Buffer) => (body += b.toString()));
    req.on('end', () => {
      const at = performance.now();
      const msg = JSON.parse(body) as { alerts: Array<{ status: string; labels: Record<string, string> }> };
      for (const a of msg.alerts) {
        const n = a.labels.n;
        if (a.status === 'firing' && n !== undefined && !notifiedAt.has(n)) notifiedAt.set(n, at);
      }
      res.writeHead(200).end('{}');
    });
  });
  const hookPort = await freePort();
  await new Promise<void>((resolve) => hook.listen(hookPort, '127.0.0.1', resolve));
  const notifierConfig = path.join(dir, 'notifier.yml');
  writeFileSync(
    notifierConfig,
    [
      'route: { receiver: hook, group_by: [alertname, n], group_wait: 0s, group_interval: 1s, repeat_interval: 1h }',
      `receivers: [{ name: hook, webhook_configs: [{ url: 'http://127.0.0.1:${hookPort}/hook' }] }]`,
      '',
    ].join('\n'),
  );
  const rules = path.join(dir, 'bench.rules.yml');
  writeFileSync(
    rules,
    [
      'groups:',
      '  - name: bench',
      '    interval: 15s',
      '    rules:',
      '      - alert: BenchProbeHigh',
      '        expr: bench_probe > 1000',
      '',
    ].join('\n'),
  );
  const stack = await startStack({
    services: ['collector', 'tracing', 'billing', 'anomaly', 'notifier'],
    commonEnv: { LOG_LEVEL: 'warn' },
    env: { notifier: { NOTIFIER_CONFIG: notifierConfig }, anomaly: { ANOMALY_RULE_FILES: rules } },
  });
  const costAt = new Map<string, number>();
  const bus = await EventBus.connect({ url: stack.natsUrl, name: 'bench-scale', namespace: stack.namespace });
  const consumer = await bus.consume({
    stream: 'cost',
    durable: 'bench-scale-latency',
    filterSubject: 'aw.cost.v1.allocated.>',
    deliverPolicy: 'new',
    handler: async (m) => {
      const at = performance.now();
      const ev = JSON.parse(Buffer.from(m.data).toString('utf8')) as { data: { tenant: string; kind: string } };
      if (ev.data.kind === 'requests' && !costAt.has(ev.data.tenant)) costAt.set(ev.data.tenant, at);
    },
  });
  try {
    const post = (route: string, body: string, type: string) =>
      fetch(`${route}`, { method: 'POST', headers: { ...authHeaders(), 'content-type': type }, body }).then(
        async (r) => {
          if (!r.ok) throw new Error(`${route}: HTTP ${r.status} ${await r.text()}`);
        },
      );
    const run = Date.now().toString(36);

    const request = (requestId: string, tenant: string) => {
      const now = Date.now();
      const base = { requestId, tenant, instance: 'vllm-bench-0', node: 'gpu-node-bench' };
      return [
        { ...base, model: 'llama-3.1-8b', kind: 'received', time: new Date(now - 300).toISOString() },
        {
          ...base,
          model: 'llama-3.1-8b',
          kind: 'completed',
          time: new Date(now).toISOString(),
          promptTokens: 10,
          completionTokens: 5,
        },
      ];
    };
    const postEvents = (events: unknown[]) =>
      post(`${stack.url('tracing')}/api/v1/requests/events`, JSON.stringify({ events }), 'application/json');

    // A request's last event → its cost event. Billing closes a window once the instance's request
    // records have moved past it: a steady trickle of other requests keeps time moving, as traffic does.
    let filling = true;
    const filler = (async () => {
      for (let f = 0; filling; f++) {
        await postEvents(request(`bench-${run}-fill${f}`, `bench-${run}-fill`));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const sentAt = new Map<string, number>();
    try {
      for (let i = 0; i < COUNT; i++) {
        const tenant = `bench-${run}-t${i}`;
        const events = request(`bench-${run}-q${i}`, tenant);
        const t = performance.now();
        await postEvents(events);
        sentAt.set(tenant, t);
        await new Promise((r) => setTimeout(r, 500));
      }
      await eventually(
        () => ([...sentAt.keys()].every((t) => costAt.has(t)) ? true : undefined),
        120_000,
        `${COUNT} cost events`,
      );
    } finally {
      filling = false;
      await filler;
    }
    const cost = [...sentAt].map(([tenant, t]) => costAt.get(tenant)! - t);

    // A sample over the threshold → its notification.
    const pushedAt = new Map<string, number>();
    for (let i = 0; i < COUNT; i++) {
      const n = `${run}-${i}`;
      const t = performance.now();
      await post(
        `${stack.url('collector')}/api/v1/import/prometheus`,
        `bench_probe{n="${n}"} 5000 ${Date.now()}\n`,
        'text/plain',
      );
      pushedAt.set(n, t);
      await eventually(() => (notifiedAt.has(n) ? true : undefined), 60_000, `notification ${n}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    const alert = [...pushedAt].map(([n, t]) => notifiedAt.get(n)! - t);
    return {
      cost,
      alert,
      settings:
        'billing windows 5 s closing 2 s after their end (BILLING_WINDOW_SECONDS=5, BILLING_LATENESS_SECONDS=2, ' +
        'as the e2e stack runs it; the defaults are 60 s and 10 s), tracing completion grace 500 ms; rule group interval 15 s ' +
        '(a sample that a rule reads triggers its evaluation), notifier `group_wait: 0s`, dispatcher tick 500 ms (default)',
    };
  } finally {
    await consumer.stop();
    await bus.drain();
    await stack.stop();
    hook.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (Number(process.versions.node.split('.')[0]) < 24)
    throw new Error(`Node 24 expected (got ${process.version}): run npm run bench:scale`);
  const machine = machineInfo();
  log(`machine: ${describeMachine(machine)}`);
  const out: string[] = [];
  let latencyRows = 0;

  // Latency first: the shorter part, and the one that needs the most services up.
  if (PARTS.includes('latency')) {
    const l = await latencies();
    const row = (what: string, xs: number[]) =>
      `| ${what} | ${xs.length} | **${fmt(percentile(xs, 50))} ms** | ${fmt(percentile(xs, 95))} ms | ${fmt(Math.min(...xs))} – ${fmt(Math.max(...xs))} ms |`;
    latencyRows = out.push(
      `End to end, one process per service on the shared PostgreSQL, NATS and Redis; ${l.settings}.`,
      '',
      '| from → to | count | p50 | p95 | range |',
      '| --- | --- | --- | --- | --- |',
      row("a request's last event POSTed to tracing → its cost.allocated event on NATS", l.cost),
      row('a sample over the threshold pushed to the collector → its notification at the webhook', l.alert),
      '',
    );
    log(out.join('\n'));
  }

  if (PARTS.includes('ingest')) {
    const lastTimestampMs = Math.floor(Date.now() / STEP_MS) * STEP_MS - 60_000;
    const w = await buildWorkload({ nodes: NODES, scrapes: SCRAPES, lastTimestampMs });
    const expected = w.samplesPerScrape * w.scrapes;
    log(`workload: ${fmt(w.pushes.length)} pushes, ${fmt(expected)} samples, ${fmt(w.bytes / 1e6, 1)} MB`);
    const runs = new Map<string, Array<{ pushS: number; queryableS: number; load: number }>>();
    for (let r = 0; r < REPEAT; r++) {
      const order = r % 2 === 0 ? LAYOUTS : [...LAYOUTS].reverse();
      for (const layout of order) {
        const res = await ingestOnce(w, layout);
        const load = os.loadavg()[0]!;
        runs.set(layout.name, [...(runs.get(layout.name) ?? []), { ...res, load }]);
        log(
          `${layout.name}: ${fmt(expected / res.queryableS)} samples/s (pushes taken in ${res.pushS.toFixed(2)} s, queryable after ${res.queryableS.toFixed(2)} s; load ${load.toFixed(2)})`,
        );
      }
    }
    const rows = LAYOUTS.map((l) => {
      const rs = runs.get(l.name)!;
      const rates = rs.map((x) => expected / x.queryableS);
      return `| ${l.name} | **${fmt(rates.reduce((a, b) => a + b, 0) / rates.length)}** | ${rates.map((x) => fmt(x)).join(', ')} | ${rs.map((x) => x.pushS.toFixed(1)).join(', ')} | ${rs.map((x) => x.load.toFixed(1)).join(', ')} |`;
    });
    out.push(
      `Ingest: ${w.nodes} nodes × 8 GPUs, ${w.scrapes} scrapes, ${fmt(w.pushes.length)} pushes of one node's exposition (${fmt(w.bytes / 1e6, 1)} MB, ${fmt(expected)} samples), ${CONCURRENCY} in flight, to one scraper process; every sample counted by the first writer's query API. Each layout ran ${REPEAT} times (order reversed on every other pass).`,
      '',
      '| layout | samples/s, first push → queryable (mean of the runs) | each run | pushes taken after (s) | load average (1 min) after each |',
      '| --- | --- | --- | --- | --- |',
      ...rows,
      '',
    );
  }

  const loadAfter = loadavg();
  log(`load average after: ${loadAfter}`);
  if (WRITE_DOCS && out.length > 0) {
    const argv = process.argv.slice(2).join(' ');
    const generated = [
      `Generated by \`npm run bench:scale${argv ? ` -- ${argv}` : ''}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
      '',
      `Machine: ${describeMachine(machine)}; after: ${loadAfter}. Every process (services, nats-server × 1 or 3, PostgreSQL) on the same cores, shared with other work: the figures are loaded.`,
      '',
      // Ingest reads first in the section.
      ...out.slice(latencyRows).concat(out.slice(0, latencyRows)),
    ].join('\n');
    writeGeneratedBlock(path.join(REPO_ROOT, 'docs/benchmarks.md'), 'Scale-out', 'scale-bench', generated);
    log('docs/benchmarks.md: ## Scale-out updated');
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
