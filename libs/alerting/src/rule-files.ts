/**
 * Rule files for alerting: the rule-file loader of @arcwatch/rules plus what Prometheus's
 * rulefmt also checks for alerting rules — every label and annotation template must parse
 * (`{{ $label.foo }}` is an undefined variable). Problems carry file, line and field.
 */
import { ConfigFileError, readConfigText, YamlSource, type ConfigIssue, type PathKey } from '@arcwatch/config-files';
import { parseRuleFile, type RuleGroup, type RuleLoadOptions } from '@arcwatch/rules';
import { checkAlertTemplate } from './template/alert-template';

function templateIssues(text: string, file: string, groups: RuleGroup[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  let source: YamlSource | undefined;
  groups.forEach((g, gi) => {
    g.rules.forEach((entry, ri) => {
      if (entry.kind !== 'alerting') return;
      const r = entry.rule;
      const check = (field: 'labels' | 'annotations', key: string, value: string): void => {
        const err = checkAlertTemplate(value, r.alert);
        if (!err) return;
        source ??= YamlSource.parse(text, file, { merge: true });
        const top = source.toJS() as { kind?: unknown };
        const root: PathKey[] = top.kind === 'PrometheusRule' ? ['spec'] : [];
        const what = field === 'labels' ? 'label' : 'annotation';
        issues.push(
          source.issue(
            [...root, 'groups', gi, 'rules', ri, field],
            `group "${g.name}", rule ${ri + 1}, "${r.alert}": ${what} "${key}": ${err}`,
            key,
          ),
        );
      };
      for (const [k, v] of Object.entries(r.labels)) check('labels', k, v);
      for (const [k, v] of Object.entries(r.annotations)) check('annotations', k, v);
    });
  });
  return issues;
}

/** parseRuleFile, then the template checks. */
export function parseAlertRuleFile(text: string, file: string, opts: RuleLoadOptions = {}): RuleGroup[] {
  const groups = parseRuleFile(text, file, opts);
  const issues = templateIssues(text, file, groups);
  if (issues.length > 0) throw new ConfigFileError(issues);
  return groups;
}

/** Loads every file; all problems of all files are reported together. */
export function loadAlertRuleFiles(files: readonly string[], opts: RuleLoadOptions = {}): RuleGroup[] {
  const groups: RuleGroup[] = [];
  const issues: ConfigIssue[] = [];
  for (const file of files) {
    try {
      groups.push(...parseAlertRuleFile(readConfigText(file), file, opts));
    } catch (err) {
      if (err instanceof ConfigFileError) issues.push(...err.issues);
      else throw err;
    }
  }
  if (issues.length > 0) throw new ConfigFileError(issues);
  return groups;
}
