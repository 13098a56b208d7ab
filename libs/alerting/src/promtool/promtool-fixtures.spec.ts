/**
 * Every promtool-format unit-test file in the shared fixtures gives the verdict its fixture
 * records: unittest-real/*\/case.json (exit code and, for failing files, exactly the failing
 * assertions under Prometheus 3 semantics) and promtool-unittest (the verdicts of Prometheus's
 * own cmd/promtool tests, with @ and negative offsets enabled as the promtool CLI does).
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { runUnitTestFile, testRuleFiles } from '../index';

const REAL = path.join(FIXTURES_DIR, 'alert-rules', 'unittest-real');
const UPSTREAM = path.join(FIXTURES_DIR, 'alert-rules', 'promtool-unittest');

interface CaseTest {
  file: string;
  expected: { exit_code: 0 | 1; failures: Array<{ alertname?: string; expr?: string; eval_time: string }> };
}

/** The failing assertions named in promtool-style output, as check-rules.mjs reads them. */
function failuresIn(errors: string[]): string[] {
  const got: string[] = [];
  for (const line of errors.join('\n').split('\n')) {
    let m = /^\s+alertname: (.*), time: (\S+?),?\s*$/.exec(line);
    if (m) {
      got.push(`alert|${m[1]}|${m[2]}`);
      continue;
    }
    m = /^\s+expr: (".*"), time: (\S+?),?\s*$/.exec(line);
    if (m) got.push(`expr|${JSON.parse(m[1]) as string}|${m[2]}`);
  }
  return got.sort();
}

const cases = readdirSync(REAL)
  .filter((d) => existsSync(path.join(REAL, d, 'case.json')))
  .sort()
  .flatMap((set) => {
    const c = JSON.parse(readFileSync(path.join(REAL, set, 'case.json'), 'utf8')) as { tests: CaseTest[] };
    return c.tests.map((t) => ({ set, ...t }));
  });

describe('unittest-real: real rule files with their authors’ promtool tests', () => {
  it('holds every set of the shared half', () => {
    expect(cases.length).toBeGreaterThanOrEqual(100);
  });

  it.each(cases.map((c) => [`${c.set}/${c.file}`, c] as const))(
    '%s gives the recorded verdict',
    async (_name, c) => {
      const r = await runUnitTestFile(path.join(REAL, c.set, c.file));
      expect(r.errors.length > 0 ? 1 : 0).toBe(c.expected.exit_code);
      const want = c.expected.failures
        .map((f) =>
          f.alertname !== undefined ? `alert|${f.alertname}|${f.eval_time}` : `expr|${f.expr}|${f.eval_time}`,
        )
        .sort();
      if (c.expected.exit_code === 1) expect(failuresIn(r.errors)).toEqual(want);
      // A few sets evaluate 12 h subqueries every minute over a day: seconds, not milliseconds.
    },
    300_000,
  );
});

describe('promtool-unittest: the verdicts of promtool’s own tests', () => {
  const run = async (file: string, runFilter: string[] = []): Promise<number> => {
    const lines: string[] = [];
    return testRuleFiles(
      [path.join(UPSTREAM, file)],
      { run: runFilter },
      (l) => lines.push(l),
      (l) => lines.push(l),
    );
  };

  it.each([
    ['unittest.yml', 0],
    ['long-period.yml', 0],
    ['bad-promql.yml', 1],
    ['bad-rules-syntax-test.yml', 1],
    ['bad-rules-error-test.yml', 1],
    ['failing.yml', 1],
    ['at-modifier-test.yml', 0],
    ['negative-offset-test.yml', 0],
    ['start-time-test.yml', 0],
    ['rules_run.yml', 1],
  ] as const)('%s exits %d', async (file, code) => {
    expect(await run(file)).toBe(code);
  });

  it('rules_run.yml: --run selects test groups by name', async () => {
    expect(await run('rules_run.yml', ['correct'])).toBe(0);
    expect(await run('rules_run.yml', ['wrong'])).toBe(1);
    expect(await run('rules_run.yml', ['correct', 'wrong'])).toBe(1);
  });

  it('failing.yml names each failing assertion as promtool does', async () => {
    const r = await runUnitTestFile(path.join(UPSTREAM, 'failing.yml'));
    expect(failuresIn(r.errors)).toEqual(
      ['alert|AlwaysFiring|5m', 'alert|InstanceDown|5m', 'alert|Test|0s', 'expr|test|0s'].sort(),
    );
    expect(r.errors[0]).toContain(
      '    name: Failing test,\n    alertname: Test, time: 0s, \n        exp:[\n            0:\n              Labels:{alertname="Test"}',
    );
  });

  it('a rule evaluation error stops the group with the rule, time and error', async () => {
    const r = await runUnitTestFile(path.join(UPSTREAM, 'bad-rules-error-test.yml'));
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(
      /^ {4}rule: joined, time: 0s, err: found duplicate series for the match group \{a="1"\} on the right hand-side/,
    );
  });
});
