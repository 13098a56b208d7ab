import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseRuleFile } from '@arcwatch/rules';
import { REPO_ROOT } from '@arcwatch/testing';

describe('docs/runbooks.md', () => {
  it('has a section for the runbook of every alert in the rule pack, and names the alert there', () => {
    const file = path.join(REPO_ROOT, 'infra/rules/llm-fleet.rules.yml');
    const alerts = parseRuleFile(readFileSync(file, 'utf8'), file).flatMap((g) => g.alerting);
    const doc = readFileSync(path.join(REPO_ROOT, 'docs/runbooks.md'), 'utf8');
    const sections = new Set([...doc.matchAll(/^## (\S+)$/gm)].map((m) => m[1]));
    expect(alerts.length).toBeGreaterThan(10);
    for (const a of alerts) {
      const slug = /#([a-z0-9-]+)$/.exec(a.annotations.runbook_url ?? '')?.[1] ?? /\/([a-z0-9-]+)$/.exec(a.annotations.runbook_url ?? '')?.[1];
      expect([a.alert, slug !== undefined && sections.has(slug)]).toEqual([a.alert, true]);
      expect(doc).toContain(`**${a.alert}**`);
    }
  });
});
