import path from 'node:path';
import { loadAlertmanagerConfigFile } from '@arcwatch/alertmanager';
import { REPO_ROOT } from '@arcwatch/testing';

describe('the configuration files npm start uses', () => {
  it('infra/notifier/local.yml routes P0/P1 to on-call with an escalation policy, everything else to the team', () => {
    const am = loadAlertmanagerConfigFile(path.join(REPO_ROOT, 'infra/notifier/local.yml'));
    expect(am.receivers.map((r) => r.name).sort()).toEqual(['on-call', 'team']);
    expect(am.arcwatch?.escalationPolicies.map((p) => [p.name, p.levels.map((l) => [l.delayMs, l.targets])])).toEqual([
      ['page-until-acknowledged', [[0, ['on-call']], [600_000, ['team']]]],
    ]);
  });
});
