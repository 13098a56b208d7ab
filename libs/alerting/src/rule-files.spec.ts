/**
 * Every rule file in the shared fixtures loads, or is rejected with file, line and field, as the
 * fixtures say: prometheus-rulefmt/*.bad.yaml rejected (the legacy-name case under legacy name
 * validation, as upstream tests it), everything else accepted, templates checked like rulefmt.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ConfigFileError, readConfigText } from '@arcwatch/config-files';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { parseAlertRuleFile } from './rule-files';

const ROOT = path.join(FIXTURES_DIR, 'alert-rules');
const RULEFMT = path.join(ROOT, 'prometheus-rulefmt');

function load(file: string, legacy = false): { ok: true; rules: number } | { ok: false; message: string } {
  try {
    const groups = parseAlertRuleFile(readConfigText(file), file, legacy ? { nameValidation: 'legacy' } : {});
    return { ok: true, rules: groups.reduce((n, g) => n + g.rules.length, 0) };
  } catch (e) {
    if (e instanceof ConfigFileError) return { ok: false, message: e.message };
    throw e;
  }
}

describe('rule files in the shared fixtures', () => {
  const bad = readdirSync(RULEFMT).filter((f) => f.endsWith('.bad.yaml'));
  const good = readdirSync(RULEFMT).filter((f) => !f.endsWith('.bad.yaml'));

  it.each(bad.filter((f) => !f.startsWith('legacy_')))(
    'prometheus-rulefmt/%s is rejected with file:line:column',
    (f) => {
      const r = load(path.join(RULEFMT, f));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toMatch(new RegExp(`${f.replace(/\./g, '\\.')}:\\d+:\\d+: `));
    },
  );

  it('legacy_validation_annotation: rejected under legacy names, accepted under UTF-8 names (Prometheus 3)', () => {
    expect(load(path.join(RULEFMT, 'legacy_validation_annotation.bad.yaml'), true).ok).toBe(false);
    expect(load(path.join(RULEFMT, 'legacy_validation_annotation.good.yaml'), true).ok).toBe(true);
    expect(load(path.join(RULEFMT, 'legacy_validation_annotation.bad.yaml')).ok).toBe(true);
  });

  it.each(good)('prometheus-rulefmt/%s loads', (f) => {
    expect(load(path.join(RULEFMT, f))).toMatchObject({ ok: true });
  });

  const published = ['kube-prometheus', 'awesome-prometheus-alerts', 'gpu'].flatMap((d) =>
    readdirSync(path.join(ROOT, d)).map((f) => `${d}/${f}`),
  );
  it.each([
    ...published,
    'compliance-alert-generator/rules.yaml',
    'promtool-unittest/rules.yml',
    'promtool-unittest/at-modifier.yml',
    'promtool-unittest/negative-offset.yml',
    'promtool-unittest/bad-rules-error.yml',
  ])('%s loads with its rules', (f) => {
    const r = load(path.join(ROOT, f));
    expect(r).toMatchObject({ ok: true });
    if (r.ok) expect(r.rules).toBeGreaterThan(0);
  });

  it('promtool-unittest/rules-bad.yml: the undefined template variable is named with its place', () => {
    const r = load(path.join(ROOT, 'promtool-unittest', 'rules-bad.yml'));
    expect(r).toEqual({
      ok: false,
      message: expect.stringContaining(
        'rules-bad.yml:12:11: groups[0].rules[0].annotations.summary: group "alerts", rule 1, "InstanceDown": annotation "summary": template: __alert_InstanceDown:1: undefined variable "$label"',
      ),
    });
  });

  it('promtool-unittest/bad-rules-syntax.yml: the parse error is named with its place', () => {
    const r = load(path.join(ROOT, 'promtool-unittest', 'bad-rules-syntax.yml'));
    expect(r).toEqual({
      ok: false,
      message: expect.stringMatching(
        /bad-rules-syntax\.yml:7:15: groups\[0\]\.rules\[0\]\.expr: could not parse expression: 1:7: parse error: unexpected end of input/,
      ),
    });
  });
});
