/**
 * The LLM-fleet rule pack (infra/rules/llm-fleet.rules.yml) loads, and its promtool-format unit
 * tests (infra/rules/tests/) pass through `arcwatch rules test`'s runner. Every alert carries a
 * P0–P3 severity, a team and a runbook, and has at least one unit test that expects it to fire.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@arcwatch/testing';
import { loadAlertRuleFiles } from '../rule-files';
import { runUnitTestFile } from './unit-test.runner';

const RULES = path.join(REPO_ROOT, 'infra', 'rules');
const TESTS = path.join(RULES, 'tests');
const testFiles = readdirSync(TESTS)
  .filter((f) => f.endsWith('.test.yml'))
  .map((f) => path.join(TESTS, f));

describe('LLM-fleet rule pack', () => {
  const groups = loadAlertRuleFiles([path.join(RULES, 'llm-fleet.rules.yml')]);
  const alerts = groups.flatMap((g) => g.alerting);

  it('every alert has a severity P0–P3, a team and a runbook', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(15);
    for (const a of alerts) {
      expect({
        alert: a.alert,
        severity: /^P[0-3]$/.test(a.labels.severity ?? ''),
        team: Boolean(a.labels.team),
        runbook: /^https:\/\//.test(a.annotations.runbook_url ?? ''),
      }).toEqual({ alert: a.alert, severity: true, team: true, runbook: true });
    }
  });

  it('every alert is expected to fire by at least one unit test', () => {
    const text = testFiles.map((f) => readFileSync(f, 'utf8')).join('\n');
    const tested = new Set(
      [...text.matchAll(/alertname: (\w+)\n\s+eval_time: \S+\n\s+exp_alerts:\n\s+- exp_labels/g)].map((m) => m[1]),
    );
    expect(alerts.map((a) => a.alert).filter((n) => !tested.has(n))).toEqual([]);
  });

  it.each(testFiles.map((f) => [path.basename(f), f]))(
    '%s passes',
    async (_name, file) => {
      const r = await runUnitTestFile(file);
      expect(r.errors).toEqual([]);
    },
    120_000,
  );
});
