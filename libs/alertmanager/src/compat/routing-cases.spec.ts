import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { loadAlertmanagerConfigFile, parseAlertmanagerConfig } from '../config/alertmanager-config';
import { buildRouteTree } from '../routing/route';
import { receiversLine } from '../routing/route-tree-text';
import { answerCase } from './case-adapter';

/**
 * The alertmanager-routing acceptance suite: every case file under the fixtures, judged the way
 * its check-routing.mjs judges a candidate (receivers line, route options, groups, inhibition,
 * silences, matcher parsing, config validation). Expected values are upstream's assertions or
 * Alertmanager 0.33's answers.
 */
const CASES_DIR = path.join(FIXTURES_DIR, 'alertmanager', 'routing-cases');
const CONFIGS_DIR = path.join(FIXTURES_DIR, 'alertmanager', 'upstream-configs');

type Json = Record<string, unknown>;

function caseFiles(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) out.push(...caseFiles(p));
    else if (n.endsWith('.json')) out.push(p);
  }
  return out;
}

const sortKeys = (o: unknown): unknown =>
  Array.isArray(o)
    ? o.map(sortKeys)
    : o && typeof o === 'object'
      ? Object.fromEntries(
          Object.keys(o)
            .sort()
            .map((k) => [k, sortKeys((o as Json)[k])]),
        )
      : o;

const canonMatchers = (ms: unknown): string =>
  JSON.stringify(
    ((ms as { name: string; type: string; value: string }[]) ?? []).map((m) => [m.name, m.type, m.value]).sort(),
  );

/** What the suite compares for each kind: the projection of `expected` and of our answer. */
function project(kind: string, expected: Json, got: Json): [unknown, unknown] {
  switch (kind) {
    case 'inhibition':
    case 'inhibition-generated':
      return [expected.muted, got.muted];
    case 'silences':
      return 'silenced' in expected ? [expected.silenced, got.silenced] : [expected.valid, got.valid];
    case 'matchers-parse':
      return 'error' in expected
        ? ['error', 'error' in got ? 'error' : got]
        : [canonMatchers(expected.matchers), 'error' in got ? got : canonMatchers(got.matchers)];
    case 'config-validation':
      return [expected.valid, got.valid === expected.valid ? got.valid : `${String(got.valid)} (${String(got.error)})`];
    case 'route-tree': {
      const k = Object.keys(expected)[0];
      if (k === 'route_ids_any_order') return [[...(expected[k] as string[])].sort(), [...(got[k] as string[])].sort()];
      return [expected[k], got[k]];
    }
    default: {
      const norm = (routes: unknown): unknown =>
        (routes as Json[] | undefined)?.map(({ key: _key, ...r }) =>
          sortKeys({ ...r, group_by: [...(r.group_by as string[])].sort() }),
        );
      return [
        { receivers: expected.receivers, routes: norm(expected.routes), groups: sortKeys(expected.groups) },
        {
          receivers: got.receivers,
          routes: expected.routes ? norm(got.routes) : undefined,
          groups: expected.groups ? sortKeys(got.groups) : undefined,
        },
      ];
    }
  }
}

const files = caseFiles(CASES_DIR).map((f) => JSON.parse(readFileSync(f, 'utf8')) as Json);

describe('alertmanager-routing suite (fixtures)', () => {
  it('has case files of every kind', () => {
    const kinds = new Set(files.map((f) => f.kind));
    expect([...kinds].sort()).toEqual(
      [
        'config-validation',
        'inhibition',
        'inhibition-generated',
        'matchers-parse',
        'route-tree',
        'routing',
        'routing-generated',
        'silences',
      ].sort(),
    );
  });

  for (const f of files) {
    const { cases, ...file } = f as Json & { cases: Json[] };
    describe(String(file.id), () => {
      cases.forEach((c, i) => {
        it(`case ${i}: ${String(c.name ?? c.input ?? '')}`.slice(0, 120), () => {
          const got = answerCase({ file, case: c });
          const [want, have] = project(String(file.kind), c.expected as Json, got);
          expect(have).toEqual(want);
          if (file.kind === 'routing' || file.kind === 'routing-generated') {
            const cfg = parseAlertmanagerConfig(String(file.config), 'case.yml');
            expect(receiversLine(buildRouteTree(cfg.route), c.alert_labels as Record<string, string>)).toBe(
              (c.expected as Json).receivers_line,
            );
          }
        });
      });
    });
  }
});

describe('upstream configs', () => {
  const names = readdirSync(CONFIGS_DIR).filter((n) => n.endsWith('.yml'));

  it.each(names.filter((n) => !n.endsWith('.bad.yml')))('%s loads', (name) => {
    const cfg = loadAlertmanagerConfigFile(path.join(CONFIGS_DIR, name));
    expect(cfg.route.receiver).not.toBe('');
  });

  it.each(names.filter((n) => n.endsWith('.bad.yml')))('%s is refused with file:line and field', (name) => {
    const file = path.join(CONFIGS_DIR, name);
    expect(() => loadAlertmanagerConfigFile(file)).toThrow(/invalid regexp value for "invalid_label"/);
    try {
      loadAlertmanagerConfigFile(file);
    } catch (e) {
      const issue = (e as { issues: { file: string; line: number; field: string }[] }).issues[0];
      expect(issue.file).toBe(file);
      expect(issue.line).toBeGreaterThan(1);
      expect(issue.field).toMatch(/^route\.routes\[0\]\.match_re/);
    }
  });
});
