/**
 * Operating scenarios end to end, every service as its own process (e2e/support/stack.ts) with
 * the configuration `npm start` uses: the rule pack infra/rules/llm-fleet.rules.yml (only each
 * rule's `for` and the group intervals shortened, so a test takes seconds, not minutes) and the
 * routing and escalation of infra/notifier/local.yml, whose receivers here deliver to local
 * stand-ins: Slack for the team, PagerDuty for on-call (escalation delays shortened likewise).
 * The simulated fleet runs busy in a warm aisle (inlet 35 °C, a cooling failure), so its poorly
 * cooled board (GPU 1 of node 0) passes 85 °C about a minute in, and loses node 1 for a while.
 * The detector file infra/detectors/llm-fleet.yaml (TTFT drift, its `for` shortened) watches the
 * TTFT p99 series.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { REPO_ROOT, eventually, freePort } from '@arcwatch/testing';
import { startStack, type Stack } from './support/stack';

/** Node 1 dies this many seconds after the fleet starts, for OUTAGE_FOR_S. */
const OUTAGE_AT_S = 50;
const OUTAGE_FOR_S = 20;

interface Received {
  path: string;
  body: Record<string, unknown>;
  at: number;
}

/** A local HTTP server standing in for Slack's or PagerDuty's API: records every POST. */
async function standIn(): Promise<{ url: string; received: Received[]; close: () => void }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (b: Buffer) => (body += b.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(body || '{}') as Record<string, unknown>, at: Date.now() });
      // PagerDuty's Events API answers 202 with a status; Slack's webhook answers 200 "ok".
      res.writeHead(req.url?.startsWith('/pd') ? 202 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', message: 'Event processed' }));
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}`, received, close: () => server.close() };
}

/** The rule pack as shipped, with every `for` at 2 s and every group evaluated each second. */
function quickRules(): string {
  const pack = parseYaml(fs.readFileSync(path.join(REPO_ROOT, 'infra/rules/llm-fleet.rules.yml'), 'utf8')) as {
    groups: Array<{ interval?: string; rules: Array<{ for?: string }> }>;
  };
  for (const g of pack.groups) {
    g.interval = '1s';
    for (const r of g.rules) if (r.for !== undefined) r.for = '2s';
  }
  return toYaml(pack);
}

/** The detector file as shipped, TTFT drift only, its `for` at 2 s. */
function quickDetectors(): string {
  const file = parseYaml(fs.readFileSync(path.join(REPO_ROOT, 'infra/detectors/llm-fleet.yaml'), 'utf8')) as {
    detectors: Array<{ name: string; for?: string }>;
  };
  file.detectors = file.detectors.filter((d) => d.name === 'ttft-p99-drift');
  for (const d of file.detectors) d.for = '2s';
  return toYaml(file);
}

/** infra/notifier/local.yml with its receivers delivering to the stand-ins and short timers. */
function quickRouting(slack: string, pagerduty: string): string {
  const cfg = parseYaml(fs.readFileSync(path.join(REPO_ROOT, 'infra/notifier/local.yml'), 'utf8')) as {
    route: Record<string, unknown>;
    receivers: Array<Record<string, unknown> & { name: string }>;
    arcwatch: { escalation_policies: Array<{ levels: Array<{ delay: string }> }> };
  };
  Object.assign(cfg.route, { group_wait: '200ms', group_interval: '1s' });
  for (const r of cfg.receivers) {
    if (r.name === 'team')
      r.slack_configs = [{ api_url: `${slack}/slack/team`, channel: '#gpu-fleet', send_resolved: true }];
    if (r.name === 'on-call')
      r.pagerduty_configs = [{ routing_key: 'e2e0routing0key0000000000000000', url: `${pagerduty}/pd/enqueue` }];
  }
  for (const p of cfg.arcwatch.escalation_policies)
    p.levels.forEach((l, i) => {
      l.delay = `${i * 3}s`;
    });
  return toYaml(cfg);
}

/** Seconds of a steady TTFT p99 (the detector's warm-up and calibration) before it climbs. */
const TTFT_STEADY_S = 35;

/**
 * Tracing writes the TTFT p99 series once a minute; a detector needs dozens of values before it
 * may alarm, so the test writes the same series (name and labels as tracing does) every 250 ms
 * through the collector's push intake: steady around 200 ms, then a climb to 800 ms.
 */
function pushTtft(stack: Stack): { startedAt: number; stop: () => Promise<void> } {
  const series = 'arcwatch_request_ttft_seconds{quantile="0.99",tenant="acme",model="llama-3.1-8b"}';
  const startedAt = Date.now();
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const s = (Date.now() - startedAt) / 1000;
      const wobble = 0.01 * Math.sin(i * 1.7) + 0.005 * Math.cos(i * 0.9);
      const value = 0.2 + wobble + (s > TTFT_STEADY_S ? Math.min(0.6, (s - TTFT_STEADY_S) * 0.05) : 0);
      await stack
        .fetch('collector', '/api/v1/import/prometheus', {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: `${series} ${value.toFixed(4)} ${Date.now()}\n`,
        })
        .catch(() => undefined);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    startedAt,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

interface AmAlert {
  fingerprint: string;
  labels: Record<string, string>;
  status: { state: string };
}

describe('scenarios: the fleet misbehaves and the right people hear of it', () => {
  let stack: Stack;
  let dir: string;
  let slack: Awaited<ReturnType<typeof standIn>>;
  let pagerduty: Awaited<ReturnType<typeof standIn>>;
  let fleetStartedAt = 0;
  let ttft: ReturnType<typeof pushTtft>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-scenarios-'));
    [slack, pagerduty] = [await standIn(), await standIn()];
    const rules = path.join(dir, 'llm-fleet.rules.yml');
    fs.writeFileSync(rules, quickRules());
    const routing = path.join(dir, 'notifier.yml');
    fs.writeFileSync(routing, quickRouting(slack.url, pagerduty.url));
    const detectors = path.join(dir, 'llm-fleet.detectors.yaml');
    fs.writeFileSync(detectors, quickDetectors());
    fleetStartedAt = Date.now();
    stack = await startStack({
      services: ['collector', 'tracing', 'billing', 'anomaly', 'notifier'],
      fleet: {
        nodes: 2,
        gpus: 4,
        traffic: false,
        args: [
          ...['--hot-gpu', '0:1', '--load-scale', '4', '--ambient', '35'],
          // vLLM answers 5 s after its node is back (loading weights takes 40 s by default).
          ...['--outage', `1:${OUTAGE_AT_S}:${OUTAGE_FOR_S}`, '--vllm-warmup', '5'],
        ],
      },
      env: {
        anomaly: {
          ANOMALY_RULE_FILES: rules,
          ANOMALY_EVALUATION_INTERVAL_MS: '1000',
          ANOMALY_DETECTOR_FILES: detectors,
          // Tracing writes one TTFT p99 a minute; sampling it often gives the detector its warm-up quickly.
          ANOMALY_DETECTOR_INTERVAL_MS: '200',
        },
        notifier: { NOTIFIER_CONFIG: routing },
      },
    });
    // The TTFT series runs beside the other scenarios; its test reads the outcome at the end.
    ttft = pushTtft(stack);
  }, 240_000);

  afterAll(async () => {
    await ttft?.stop();
    slack?.close();
    pagerduty?.close();
    await stack?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const mentions = (r: Received, what: string) => JSON.stringify(r.body).includes(what);

  // The outage comes first (acknowledged while node 1 is down), the hot board about a minute later.
  it('a vLLM instance dies: P0 to PagerDuty, escalates to the team, is acknowledged, resolves when it is back', async () => {
    const trigger = await eventually(
      () =>
        pagerduty.received.find(
          (r) =>
            mentions(r, 'InferenceServiceDown') && (r.body as { event_action?: string }).event_action === 'trigger',
        ),
      (OUTAGE_AT_S + 60) * 1000 - (Date.now() - fleetStartedAt),
      `a PagerDuty trigger for InferenceServiceDown\n${stack.logs()}`,
    );
    expect(trigger.path).toBe('/pd/enqueue');
    expect(trigger.body.routing_key).toBe('e2e0routing0key0000000000000000');
    const [down] = await stack.get<AmAlert[]>(
      'notifier',
      `/api/v2/alerts?filter=${encodeURIComponent('alertname="InferenceServiceDown"')}`,
    );
    expect(down.labels).toMatchObject({ severity: 'P0', team: 'inference', job: 'vllm' });

    // Unacknowledged, the policy's second level (3 s here) pages the team as well.
    const escalated = await eventually(
      () => slack.received.find((r) => mentions(r, 'InferenceServiceDown')),
      30_000,
      'the escalation to the team',
    );
    expect(escalated.at).toBeGreaterThan(trigger.at);
    const ack = await stack.post<{ acknowledged: boolean }>(
      'notifier',
      `/api/v1/alerts/${down.fingerprint}/acknowledge`,
      { by: 'e2e-on-call', comment: 'restarting the engine' },
    );
    expect([ack.status, ack.body.acknowledged]).toEqual([200, true]);

    // The node comes back: the alert resolves and PagerDuty hears it under the same dedup key.
    // On-call is paged twice, each its own incident: by the route (dedup key from the group key)
    // and by the escalation policy's first level (from the alert's episode; docs/notifier.md), in
    // either order. Each incident opened is resolved under its own key.
    const pd = (action: string) =>
      pagerduty.received
        .filter(
          (r) => mentions(r, 'InferenceServiceDown') && (r.body as { event_action?: string }).event_action === action,
        )
        .map((r) => String((r.body as { dedup_key?: string }).dedup_key));
    const incidents = await eventually(
      () => {
        const opened = [...new Set(pd('trigger'))].sort();
        const resolved = [...new Set(pd('resolve'))].sort();
        return resolved.length > 0 && opened.every((k) => resolved.includes(k)) ? { opened, resolved } : undefined;
      },
      (OUTAGE_AT_S + OUTAGE_FOR_S + 100) * 1000 - (Date.now() - fleetStartedAt),
      `a PagerDuty resolve for every InferenceServiceDown incident\n${stack.logs()}`,
    );
    expect(incidents.opened).toContain(trigger.body.dedup_key);
    expect(incidents.resolved).toEqual(incidents.opened);
    expect(incidents.opened).toHaveLength(2);
  }, 300_000);

  it("the hot board overheats: GpuTemperatureHigh (P2) reaches the team's Slack, not the pager", async () => {
    // The board heats with the fleet's load; in the warm aisle it passes 85 °C about a minute in.
    const message = await eventually(
      () => slack.received.find((r) => mentions(r, 'GpuTemperatureHigh')),
      120_000,
      `a Slack message for GpuTemperatureHigh\n${stack.logs()}`,
    );
    expect(message.path).toBe('/slack/team');
    expect(message.body.channel).toBe('#gpu-fleet');
    expect(mentions(message, 'gpu-node-001')).toBe(true);
    const alerts = await stack.get<AmAlert[]>(
      'notifier',
      `/api/v2/alerts?filter=${encodeURIComponent('alertname="GpuTemperatureHigh"')}`,
    );
    expect(alerts.map((a) => [a.labels.severity, a.labels.gpu, a.labels.Hostname])).toEqual([
      ['P2', '1', 'gpu-node-001'],
    ]);
    expect(pagerduty.received.filter((r) => mentions(r, 'GpuTemperatureHigh'))).toEqual([]);
  }, 300_000);

  it('TTFT drifts: the TTFT p99 series creeps up and the ttft-p99-drift detector reaches the team', async () => {
    try {
      const message = await eventually(
        () => slack.received.find((r) => mentions(r, 'ttft-p99-drift')),
        90_000 - (Date.now() - ttft.startedAt),
        `a Slack message for ttft-p99-drift\n${stack.logs()}`,
      );
      // Not while the series was steady: only once it had climbed.
      expect(message.at - ttft.startedAt).toBeGreaterThan(TTFT_STEADY_S * 1000);
      // The series' tenant and model name the alert (the detector's labels join them).
      expect([mentions(message, 'acme'), mentions(message, 'llama-3.1-8b')]).toEqual([true, true]);
      expect(message.path).toBe('/slack/team');
      expect(pagerduty.received.filter((r) => mentions(r, 'ttft-p99-drift'))).toEqual([]);
    } finally {
      await ttft.stop();
    }
  }, 120_000);
});
