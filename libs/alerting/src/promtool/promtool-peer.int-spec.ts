/**
 * Debian's real `promtool` (2.42 on these machines) as a peer.
 *
 * `rules test`: wherever a fixture records that promtool 2.42's verdict equals the expected
 * (Prometheus 3) one, live promtool must give exactly that recorded verdict: the same exit code and
 * the same failing assertions. promtool-fixtures.spec.ts runs `arcwatch rules test`'s runner on
 * every one of these files (and the others) and requires the same expected verdict and failures.
 * Together: ours == expected == recorded 2.42 oracle == live promtool, so ours == promtool on
 * every agreeing file, without running our evaluator a second time here. promtool itself is the
 * slow part (up to tens of seconds a file), so its runs are started up front, two at a time.
 *
 * `rules check` must agree with `promtool check rules` on the shared rule files whose verdict does
 * not depend on the version (UTF-8 names came with Prometheus 3), and the rule pack's own tests
 * pass under promtool as they do under ours (llm-fleet-rule-pack.spec.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES_DIR, REPO_ROOT } from '@arcwatch/testing';
import { checkRuleFiles } from './check-rules';

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
const REAL = path.join(FIXTURES_DIR, 'alert-rules', 'unittest-real');
const ORACLE_242 = 'promtool 2.42.0+ds-5+deb12u1 (Debian 12 bookworm package `prometheus`)';
/** promtool runs one core's worth; two at a time on the two-core runners. */
const CONCURRENCY = 2;

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

interface PeerRun {
  code: number;
  out: string;
}

let active = 0;
const waiting: Array<() => void> = [];
const children = new Set<ReturnType<typeof spawn>>();

/** Runs `fn` when one of the CONCURRENCY slots is free (a finished run hands its slot on). */
async function inSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (active < CONCURRENCY) active++;
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else active--;
  }
}

/** promtool's exit code (-1 when it could not run or timed out) and its stdout then stderr. */
function promtool(args: string[], cwd: string): Promise<PeerRun> {
  return inSlot(
    () =>
      new Promise<PeerRun>((resolve) => {
        let stdout = '';
        let stderr = '';
        const child = spawn(PROMTOOL as string, args, { cwd, timeout: 120_000 });
        children.add(child);
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        // Resolved either way, so a run nobody awaits yet never becomes an unhandled rejection.
        child.on('error', (e) => {
          children.delete(child);
          resolve({ code: -1, out: `${stdout}${stderr}${e.message}` });
        });
        child.on('close', (code) => {
          children.delete(child);
          resolve({ code: code ?? -1, out: `${stdout}${stderr}` });
        });
      }),
  );
}

interface Case {
  set: string;
  file: string;
  expected: { exit_code: number; failures: RecordedFailure[] };
  oracle: Record<string, { exit_code: number; failures: RecordedFailure[] }>;
}

interface RecordedFailure {
  alertname?: string;
  expr?: string;
  eval_time: string;
}

/** A recorded failing assertion as failureKeys names it in promtool's output. */
function recordedKey(f: RecordedFailure): string {
  return f.alertname !== undefined ? `alert|${f.alertname}|${f.eval_time}` : `expr|${f.expr}|${f.eval_time}`;
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
  const runs = new Map<Case, Promise<PeerRun>>();
  beforeAll(() => {
    for (const c of agreeing) runs.set(c, promtool(['test', 'rules', c.file], path.join(REAL, c.set)));
  });
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  it('compares on most of the real sets', () => {
    expect(agreeing.length).toBeGreaterThanOrEqual(90);
  });

  it.each(agreeing.map((c) => [`${c.set}/${c.file}`, c] as const))(
    '%s: promtool gives the recorded verdict and failures (ours: promtool-fixtures.spec.ts)',
    async (_n, c) => {
      const peer = await (runs.get(c) as Promise<PeerRun>);
      const recorded = c.oracle[ORACLE_242];
      expect({ code: peer.code, failures: failureKeys(peer.out) }).toEqual({
        code: recorded.exit_code,
        failures: recorded.failures.map(recordedKey).sort(),
      });
    },
    300_000,
  );

  it.each(['llm-fleet-infra.test.yml', 'llm-fleet-serving.test.yml'])(
    'rule pack %s passes under promtool too',
    async (f) => {
      const peer = await promtool(['test', 'rules', f], path.join(REPO_ROOT, 'infra', 'rules', 'tests'));
      expect(peer).toEqual({ code: 0, out: expect.stringContaining('SUCCESS') });
    },
  );

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
    async (f) => {
      expect(check(f)).toBe((await promtool(['check', 'rules', f], ruleDir)).code);
    },
  );

  // The one named difference: ArcWatch also reads a PrometheusRule custom resource (its groups
  // under spec.groups, as kube-prometheus ships them); promtool refuses the wrapper's fields.
  it.each(ruleFiles.filter(isCustomResource))(
    'rules check %s: a PrometheusRule resource, accepted here, refused by promtool',
    async (f) => {
      expect(check(f)).toBe(0);
      expect(await promtool(['check', 'rules', f], ruleDir)).toEqual({
        code: 1,
        out: expect.stringMatching(/field (apiVersion|kind|metadata|spec) not found/),
      });
    },
  );
});
