import { z } from 'zod';
import {
  ConfigFileError,
  durationString,
  parseDuration,
  readConfigText,
  YamlSource,
  type ConfigIssue,
  type PathKey,
} from '@arcwatch/config-files';
import { parsePromql, PromqlError, type Expr } from '@arcwatch/promql';

/**
 * Prometheus rule files (`groups:` of `record` and `alert` rules), validated as Prometheus's
 * rulefmt does, with every problem located by file, line and field. Also accepts a
 * PrometheusRule custom resource (kube-prometheus, the operator), whose groups sit under
 * `spec.groups`. Recording rules run in the collector; alerting rules in the anomaly service.
 */
export interface RecordingRule {
  record: string;
  expr: string;
  ast: Expr;
  /** Group labels with the rule's own on top; an empty value removes the label. */
  labels: Record<string, string>;
}

export interface AlertingRule {
  alert: string;
  expr: string;
  ast: Expr;
  forMs: number;
  keepFiringForMs: number;
  /** Group labels with the rule's own on top; values may hold templates. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleGroup {
  file: string;
  name: string;
  intervalMs: number;
  queryOffsetMs: number;
  /** Most series one rule may produce; 0 = no limit. */
  limit: number;
  recording: RecordingRule[];
  alerting: AlertingRule[];
  /** Every rule in file order, for evaluators that run a group's rules in sequence. */
  rules: Array<{ kind: 'recording'; rule: RecordingRule } | { kind: 'alerting'; rule: AlertingRule }>;
}

/** Prometheus 3 accepts any UTF-8 label name; `legacy` is the older [a-zA-Z_][a-zA-Z0-9_]*. */
export type NameValidation = 'utf8' | 'legacy';

export interface RuleLoadOptions {
  /** Group interval when the group gives none (Prometheus's global.evaluation_interval). */
  defaultIntervalMs?: number;
  nameValidation?: NameValidation;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LEGACY_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const DEFAULT_EVALUATION_INTERVAL_MS = 60_000;

const duration = durationString;
// Go's YAML decoder reads a scalar such as `true` or `5` into a string field as its text.
const scalarText = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));
const stringMap = z.record(z.string(), scalarText);

const ruleSchema = z
  .object({
    record: z.string().optional(),
    alert: z.string().optional(),
    // YAML reads `expr: 1` as a number; Prometheus takes the text.
    expr: z.union([z.string(), z.number()]).optional(),
    for: duration.optional(),
    keep_firing_for: duration.optional(),
    labels: stringMap.optional(),
    annotations: stringMap.optional(),
  })
  .strict();

const groupSchema = z
  .object({
    name: z.string().min(1, 'group name must not be empty'),
    interval: duration.optional(),
    query_offset: duration.optional(),
    limit: z.number().int().min(0).optional(),
    labels: stringMap.optional(),
    rules: z.array(ruleSchema).nullish(),
  })
  .strict();

const ruleFileSchema = z.object({ groups: z.array(groupSchema).nullish() }).strict();

type RawRule = z.infer<typeof ruleSchema>;

function validLabel(name: string, mode: NameValidation): boolean {
  if (name === '' || name.startsWith('__')) return false;
  return mode === 'legacy' ? LEGACY_LABEL.test(name) : true;
}

type CheckedRule = { kind: 'recording'; rule: RecordingRule } | { kind: 'alerting'; rule: AlertingRule };

/** rulefmt's checks on one rule; pushes issues and returns the rule when it has none. */
function checkRule(
  rule: RawRule,
  path: PathKey[],
  groupLabels: Record<string, string>,
  mode: NameValidation,
  at: YamlSource,
  issues: ConfigIssue[],
): CheckedRule | undefined {
  const before = issues.length;
  if (rule.record !== undefined && rule.alert !== undefined)
    issues.push(at.issue(path, "only one of 'record' and 'alert' must be set", 'record'));
  if (rule.record === undefined && rule.alert === undefined)
    issues.push(at.issue(path, "one of 'record' or 'alert' must be set"));
  const expr = rule.expr === undefined ? '' : String(rule.expr);
  let ast: Expr | undefined;
  if (expr.trim() === '') {
    issues.push(at.issue(path, "field 'expr' must be set in rule", 'expr'));
  } else {
    try {
      ast = parsePromql(expr);
    } catch (err) {
      issues.push(
        at.issue(
          [...path, 'expr'],
          `could not parse expression: ${err instanceof PromqlError ? err.message : String(err)}`,
        ),
      );
    }
  }
  if (rule.record !== undefined) {
    for (const field of ['for', 'keep_firing_for', 'annotations'] as const) {
      if (rule[field] !== undefined) issues.push(at.issue(path, `invalid field '${field}' in recording rule`, field));
    }
    if (!METRIC_NAME.test(rule.record))
      issues.push(at.issue([...path, 'record'], `invalid recording rule name: ${rule.record}`));
  }
  for (const name of Object.keys(rule.labels ?? {})) {
    if (!validLabel(name, mode)) issues.push(at.issue([...path, 'labels'], `invalid label name: ${name}`, name));
  }
  for (const name of Object.keys(rule.annotations ?? {})) {
    if (!validLabel(name, mode))
      issues.push(at.issue([...path, 'annotations'], `invalid annotation name: ${name}`, name));
  }
  if (issues.length > before || ast === undefined) return undefined;
  const labels = { ...groupLabels, ...rule.labels };
  if (rule.record !== undefined) return { kind: 'recording', rule: { record: rule.record, expr, ast, labels } };
  return {
    kind: 'alerting',
    rule: {
      alert: rule.alert as string,
      expr,
      ast,
      forMs: rule.for === undefined ? 0 : (parseDuration(rule.for) as number),
      keepFiringForMs: rule.keep_firing_for === undefined ? 0 : (parseDuration(rule.keep_firing_for) as number),
      labels,
      annotations: { ...rule.annotations },
    },
  };
}

/** Validates a rule file's text; `file` names the source in errors and in the groups. */
export function parseRuleFile(text: string, file: string, opts: RuleLoadOptions = {}): RuleGroup[] {
  // Prometheus's YAML reader resolves `<<` merge keys, and rule files use them for shared labels.
  const at = YamlSource.parse(text, file, { merge: true });
  const top = at.toJS() as Record<string, unknown>;
  const custom = top.kind === 'PrometheusRule';
  const root: PathKey[] = custom ? ['spec'] : [];
  const parsed = ruleFileSchema.safeParse(
    custom ? { groups: (top.spec as { groups?: unknown } | undefined)?.groups } : top,
  );
  if (!parsed.success) {
    throw new ConfigFileError(at.zodIssues(parsed.error, root));
  }

  const mode = opts.nameValidation ?? 'utf8';
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  const groups: RuleGroup[] = [];
  (parsed.data.groups ?? []).forEach((g, gi) => {
    const gPath: PathKey[] = [...root, 'groups', gi];
    if (seen.has(g.name))
      issues.push(at.issue([...gPath, 'name'], `groupname: "${g.name}" is repeated in the same file`));
    seen.add(g.name);
    for (const name of Object.keys(g.labels ?? {})) {
      if (!validLabel(name, mode)) issues.push(at.issue([...gPath, 'labels'], `invalid label name: ${name}`, name));
    }
    if (g.interval !== undefined && parseDuration(g.interval) === 0)
      issues.push(at.issue([...gPath, 'interval'], 'interval must be greater than 0'));
    const rules: CheckedRule[] = [];
    (g.rules ?? []).forEach((r, ri) => {
      const rule = checkRule(r, [...gPath, 'rules', ri], g.labels ?? {}, mode, at, issues);
      if (rule) rules.push(rule);
    });
    groups.push({
      file,
      name: g.name,
      intervalMs:
        g.interval === undefined
          ? (opts.defaultIntervalMs ?? DEFAULT_EVALUATION_INTERVAL_MS)
          : (parseDuration(g.interval) as number),
      queryOffsetMs: g.query_offset === undefined ? 0 : (parseDuration(g.query_offset) as number),
      limit: g.limit ?? 0,
      recording: rules.flatMap((r) => (r.kind === 'recording' ? [r.rule] : [])),
      alerting: rules.flatMap((r) => (r.kind === 'alerting' ? [r.rule] : [])),
      rules,
    });
  });
  if (issues.length > 0) throw new ConfigFileError(issues);
  return groups;
}

/** Loads every rule file; all problems of all files are reported together. */
export function loadRuleFiles(files: readonly string[], opts: RuleLoadOptions = {}): RuleGroup[] {
  const groups: RuleGroup[] = [];
  const issues: ConfigIssue[] = [];
  for (const file of files) {
    try {
      groups.push(...parseRuleFile(readConfigText(file), file, opts));
    } catch (err) {
      if (err instanceof ConfigFileError) issues.push(...err.issues);
      else throw err;
    }
  }
  if (issues.length > 0) throw new ConfigFileError(issues);
  return groups;
}
