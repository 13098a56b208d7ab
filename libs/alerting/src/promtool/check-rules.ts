/**
 * `promtool check rules` semantics: per file `Checking FILE`, then `  SUCCESS: N rules found` or
 * `  FAILED:` with the problems (ours carry file:line:column and the field). Exit 1 when any
 * file has errors. Duplicate recording rules (same name and labels) are a lint finding: reported,
 * exit 0, unless `--lint-fatal` (exit 3); `--lint=none` turns the check off.
 */
import { ConfigFileError, formatIssue, readConfigText } from '@arcwatch/config-files';
import type { RuleGroup } from '@arcwatch/rules';
import { parseAlertRuleFile } from '../rule-files';
import { labelsKey } from '../state/labels';

export interface CheckRulesOptions {
  lint: 'duplicate-rules' | 'all' | 'none';
  lintFatal: boolean;
}

function duplicates(groups: RuleGroup[]): string[] {
  const seen = new Map<string, { record: string; labels: Record<string, string>; n: number }>();
  for (const g of groups) {
    for (const r of g.recording) {
      const key = `${r.record}\u0002${labelsKey(r.labels)}`;
      const e = seen.get(key);
      if (e) e.n++;
      else seen.set(key, { record: r.record, labels: r.labels, n: 1 });
    }
  }
  return [...seen.values()]
    .filter((d) => d.n > 1)
    .map((d) =>
      `Metric: ${d.record}\nLabel(s):\n${Object.keys(d.labels)
        .sort()
        .map((k) => `\t${k}: ${d.labels[k]}\n`)
        .join('')}`.replace(/\n$/, ''),
    );
}

export const LINT_EXIT_CODE = 3;

export function checkRuleFiles(
  files: string[],
  opts: CheckRulesOptions,
  out: (line: string) => void,
  err: (line: string) => void,
): number {
  let failed = false;
  let hasErrors = false;
  for (const f of files) {
    out(`Checking ${f}`);
    let groups: RuleGroup[];
    try {
      groups = parseAlertRuleFile(readConfigText(f), f);
    } catch (e) {
      if (!(e instanceof ConfigFileError)) throw e;
      failed = true;
      hasErrors = true;
      err('  FAILED:');
      for (const i of e.issues) err(formatIssue(i));
      out('');
      continue;
    }
    const dups = opts.lint === 'none' ? [] : duplicates(groups);
    if (dups.length > 0) {
      failed = true;
      err('  FAILED:');
      err(
        `lint error ${dups.length} duplicate rule(s) found.\n${dups.join('\n')}\nMight cause inconsistency while recording expressions`,
      );
    } else {
      out(`  SUCCESS: ${groups.reduce((n, g) => n + g.rules.length, 0)} rules found`);
    }
    out('');
  }
  if (failed && hasErrors) return 1;
  if (failed && opts.lintFatal) return LINT_EXIT_CODE;
  return 0;
}
