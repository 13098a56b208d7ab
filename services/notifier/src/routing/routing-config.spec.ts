import path from 'node:path';
import { REPO_ROOT } from '@arcwatch/testing';
import { loadRoutingConfig } from './routing-config';

describe('the routing file npm start uses', () => {
  it('loads, with its escalation policy and severity mapping', () => {
    const cfg = loadRoutingConfig({ configFile: path.join(REPO_ROOT, 'infra/notifier/alertmanager.yml'), arcwatchFile: undefined });
    expect(cfg.am.receivers.map((r) => r.name)).toEqual(['ops-webhook', 'pagerduty-primary', 'pagerduty-secondary']);
    expect(cfg.arcwatch.escalationPolicies.map((p) => [p.name, p.levels.length, p.ackTimeoutMs])).toEqual([['p0-gpu-fleet', 2, 1_800_000]]);
    expect(cfg.arcwatch.severity.map.critical).toBe('P0');
  });

  it('without a file, keeps alerts with a receiver that sends nowhere', () => {
    const cfg = loadRoutingConfig({ configFile: undefined, arcwatchFile: undefined });
    expect(cfg.am.route.receiver).toBe('null');
    expect(cfg.arcwatch.escalationPolicies).toEqual([]);
  });
});
