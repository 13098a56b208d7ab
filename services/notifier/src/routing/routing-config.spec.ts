import path from 'node:path';
import { REPO_ROOT } from '@arcwatch/testing';
import { loadRoutingConfig } from './routing-config';

describe('routing configuration of the service', () => {
  it('loads the file npm start uses, with its escalation policies', () => {
    const cfg = loadRoutingConfig({
      configFile: path.join(REPO_ROOT, 'infra/notifier/local.yml'),
      arcwatchFile: undefined,
    });
    expect(cfg.am.receivers.length).toBeGreaterThan(0);
    expect(cfg.arcwatch.escalationPolicies.length).toBeGreaterThan(0);
    expect(cfg.original).toContain('route:');
  });

  it('without a file, keeps alerts with a receiver that sends nowhere', () => {
    const cfg = loadRoutingConfig({ configFile: undefined, arcwatchFile: undefined });
    expect(cfg.am.route.receiver).toBe('null');
    expect(cfg.arcwatch.escalationPolicies).toEqual([]);
  });
});
