/**
 * Operating scenarios end to end, every service as its own process (e2e/support/stack.ts) with
 * the configuration `npm start` uses: the rule pack infra/rules/llm-fleet.rules.yml (only each
 * rule's `for` and the group intervals shortened, so a test takes seconds, not minutes) and the
 * routing and escalation of infra/notifier/local.yml, whose receivers here deliver to local
 * stand-ins: Slack for the team, PagerDuty for on-call (escalation delays shortened likewise).
 * The simulated fleet runs its hot board (GPU 1 of node 0) and loses node 1 for a minute.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { REPO_ROOT, eventually, freePort } from '@arcwatch/testing';
import { startStack, type Stack } from './support/stack';

/** Node 1 dies this many seconds after the fleet starts, for OUTAGE_FOR_S. */
const OUTAGE_AT_S = 60;
const OUTAGE_FOR_S = 60;

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

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-scenarios-'));
    [slack, pagerduty] = [await standIn(), await standIn()];
    const rules = path.join(dir, 'llm-fleet.rules.yml');
    fs.writeFileSync(rules, quickRules());
    const routing = path.join(dir, 'notifier.yml');
    fs.writeFileSync(routing, quickRouting(slack.url, pagerduty.url));
    fleetStartedAt = Date.now();
    stack = await startStack({
      services: ['collector', 'tracing', 'billing', 'anomaly', 'notifier'],
      fleet: {
        nodes: 2,
        gpus: 4,
        traffic: false,
        args: ['--hot-gpu', '0:1', '--load-scale', '4', '--outage', `1:${OUTAGE_AT_S}:${OUTAGE_FOR_S}`],
      },
      env: {
        anomaly: { ANOMALY_RULE_FILES: rules, ANOMALY_EVALUATION_INTERVAL_MS: '1000' },
        notifier: { NOTIFIER_CONFIG: routing },
      },
    });
  }, 240_000);

  afterAll(async () => {
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
    const resolve = await eventually(
      () =>
        pagerduty.received.find(
          (r) =>
            mentions(r, 'InferenceServiceDown') && (r.body as { event_action?: string }).event_action === 'resolve',
        ),
      (OUTAGE_AT_S + OUTAGE_FOR_S + 60) * 1000 - (Date.now() - fleetStartedAt),
      `a PagerDuty resolve for InferenceServiceDown\n${stack.logs()}`,
    );
    expect(resolve.body.dedup_key).toBe(trigger.body.dedup_key);
  }, 300_000);

  it("the hot board overheats: GpuTemperatureHigh (P2) reaches the team's Slack, not the pager", async () => {
    // The board heats with the fleet's load; at this load it passes 85 °C about two minutes in.
    const message = await eventually(
      () => slack.received.find((r) => mentions(r, 'GpuTemperatureHigh')),
      240_000,
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
});
