/**
 * Debian's real `promtool` (2.42 on these machines) as a peer: wherever the fixtures record that
 * its version agrees with the Prometheus 3 verdict, `arcwatch rules test` and `promtool test
 * rules` must give the same exit code and name the same failing assertions; `rules check` must
 * agree with `promtool check rules` on the shared rule files whose verdict does not depend on the
 * version (UTF-8 names came with Prometheus 3). The rule pack's own tests run under both.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES_DIR, REPO_ROOT } from '@arcwatch/testing';
import { checkRuleFiles } from './check-rules';
import { runUnitTestFile } from './unit-test.runner';

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
const REAL = path.join(FIXTURES_DIR, 'alert-rules', 'unittest-real');
const ORACLE_242 = 'promtool 2.42.0+ds-5+deb12u1 (Debian 12 bookworm package `prometheus`)';

function failureKeys(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    let m = /^\s+alertname: (.*), time: (\S+?),?\s*$/.exec(line);
    if (m) {
      out.push(`alert|${m[1]}|${m[2]}`);
      continue;
    }
    m = /^\s+expr: (".*"), time: (\S+?),?\s*$/.exec(line);
    if (m) out.push(`expr|${JSON.parse(m[1]) as string}|${m[2]}`);
  }
  return out.sort();
}

function promtool(args: string[], cwd: string): { code: number; out: string } {
  const r = spawnSync(PROMTOOL as string, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

interface Case {
  set: string;
  file: string;
  expected: { exit_code: number; failures: unknown[] };
  oracle: Record<string, { exit_code: number; failures: unknown[] }>;
}

const agreeing: Case[] = readdirSync(REAL)
  .filter((d) => existsSync(path.join(REAL, d, 'case.json')))
  .flatMap((set) =>
    (JSON.parse(readFileSync(path.join(REAL, set, 'case.json'), 'utf8')) as { tests: Omit<Case, 'set'>[] }).tests.map(
      (t) => ({ set, ...t }),
    ),
  )
  .filter(
    (c) =>
      JSON.stringify(c.oracle[ORACLE_242]) ===
      JSON.stringify({ exit_code: c.expected.exit_code, failures: c.expected.failures }),
  );

// Without Debian's promtool (infra/peers.sh installs it) there is no peer to compare with.
const describePeer = PROMTOOL ? describe : describe.skip;

describePeer('rules test / rules check against Debian promtool', () => {
  it('compares on most of the real sets', () => {
    expect(agreeing.length).toBeGreaterThanOrEqual(90);
  });

  it.each(agreeing.map((c) => [`${c.set}/${c.file}`, c] as const))(
    '%s: same verdict and failures as promtool',
    async (_n, c) => {
      const peer = promtool(['test', 'rules', c.file], path.join(REAL, c.set));
      const ours = await runUnitTestFile(path.join(REAL, c.set, c.file));
      expect({ code: ours.errors.length > 0 ? 1 : 0, failures: failureKeys(ours.errors.join('\n')) }).toEqual({
        code: peer.code,
        failures: failureKeys(peer.out),
      });
    },
    300_000,
  );

  it.each(['llm-fleet-infra.test.yml', 'llm-fleet-serving.test.yml'])('rule pack %s passes under promtool too', (f) => {
    const peer = promtool(['test', 'rules', f], path.join(REPO_ROOT, 'infra', 'rules', 'tests'));
    expect(peer).toEqual({ code: 0, out: expect.stringContaining('SUCCESS') });
  });

  const ruleDir = path.join(FIXTURES_DIR, 'alert-rules');
  const ruleFiles = ['prometheus-rulefmt', 'kube-prometheus', 'awesome-prometheus-alerts', 'gpu']
    .flatMap((d) => readdirSync(path.join(ruleDir, d)).map((f) => `${d}/${f}`))
    .concat([
      'promtool-unittest/rules.yml',
      'promtool-unittest/rules-bad.yml',
      'promtool-unittest/bad-rules-syntax.yml',
    ])
    // Version-dependent: UTF-8 label names and the legacy-name case (Prometheus 3 accepts both).
    .filter((f) => !/utf-8_|legacy_validation/.test(f));
  const isCustomResource = (f: string): boolean =>
    /^kind: PrometheusRule$/m.test(readFileSync(path.join(ruleDir, f), 'utf8'));
  const check = (f: string): number => {
    const lines: string[] = [];
    return checkRuleFiles(
      [path.join(ruleDir, f)],
      { lint: 'duplicate-rules', lintFatal: false },
      (l) => lines.push(l),
      (l) => lines.push(l),
    );
  };

  it.each(ruleFiles.filter((f) => !isCustomResource(f)))(
    'rules check %s: same exit code as promtool check rules',
    (f) => {
      expect(check(f)).toBe(promtool(['check', 'rules', f], ruleDir).code);
    },
  );

  // The one named difference: ArcWatch also reads a PrometheusRule custom resource (its groups
  // under spec.groups, as kube-prometheus ships them); promtool refuses the wrapper's fields.
  it.each(ruleFiles.filter(isCustomResource))(
    'rules check %s: a PrometheusRule resource, accepted here, refused by promtool',
    (f) => {
      expect(check(f)).toBe(0);
      expect(promtool(['check', 'rules', f], ruleDir)).toEqual({
        code: 1,
        out: expect.stringMatching(/field (apiVersion|kind|metadata|spec) not found/),
      });
    },
  );
});
