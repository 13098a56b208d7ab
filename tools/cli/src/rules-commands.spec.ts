/** `arcwatch rules check` and `arcwatch rules test` through the CLI entry: output lines and exit codes. */
import path from 'node:path';
import { FIXTURES_DIR, REPO_ROOT } from '@arcwatch/testing';
import { main } from './main';

const UPSTREAM = path.join(FIXTURES_DIR, 'alert-rules', 'promtool-unittest');

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('arcwatch rules', () => {
  it('rules test: SUCCESS and exit 0 for a passing file, promtool failure headers and exit 1 for a failing one', async () => {
    const ok = await run('rules', 'test', path.join(REPO_ROOT, 'infra', 'rules', 'tests', 'llm-fleet-infra.test.yml'));
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('  SUCCESS');
    const bad = await run('rules', 'test', path.join(UPSTREAM, 'failing.yml'));
    expect(bad.code).toBe(1);
    expect(bad.err[0]).toBe('  FAILED:');
    expect(bad.err.join('\n')).toContain('    alertname: InstanceDown, time: 5m, \n');
  });

  it('rules test --run selects test groups', async () => {
    expect((await run('rules', 'test', '--run', 'correct', path.join(UPSTREAM, 'rules_run.yml'))).code).toBe(0);
  });

  it('rules check: SUCCESS with the rule count, or FAILED with file:line:column and exit 1', async () => {
    const ok = await run('rules', 'check', path.join(UPSTREAM, 'rules.yml'));
    expect(ok).toMatchObject({
      code: 0,
      out: [`Checking ${path.join(UPSTREAM, 'rules.yml')}`, '  SUCCESS: 5 rules found', ''],
    });
    const bad = await run('rules', 'check', path.join(UPSTREAM, 'rules-bad.yml'));
    expect(bad.code).toBe(1);
    expect(bad.err[1]).toMatch(/rules-bad\.yml:12:11: .*undefined variable "\$label"/);
  });

  it('usage errors exit 2', async () => {
    expect((await run('rules', 'test')).code).toBe(2);
    expect((await run('rules', 'check', '--lint=bogus', 'x.yml')).code).toBe(2);
  });
});
