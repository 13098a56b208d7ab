import { readFileSync } from 'node:fs';
import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { parsePromql, PromqlError, type Expr } from '@arcwatch/promql';
import { ConfigFileError, type ConfigIssue } from '../config/scrape-config.loader';
import { parseDuration } from '../config/duration';

/**
 * Prometheus rule files (`groups:` of `record` and `alert` rules), validated as Prometheus's
 * rulefmt does, with every problem located by file, line and field. Also accepts a
 * PrometheusRule custom resource (kube-prometheus, the operator), whose groups sit under
 * `spec.groups`. Alerting rules are checked and counted but not kept: the anomaly service
 * evaluates them.
 */
export interface RecordingRule {
  record: string;
  expr: string;
  ast: Expr;
  /** Group labels with the rule's own on top; an empty value removes the label. */
  labels: Record<string, string>;
}

export interface RuleGroup {
  file: string;
  name: string;
  intervalMs: number;
  queryOffsetMs: number;
  /** Most series one rule may produce; 0 = no limit. */
  limit: number;
  recording: RecordingRule[];
  alerting: number;
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

const duration = z.string().refine((s) => parseDuration(s) !== undefined, { message: 'not a valid duration (e.g. 30s, 1m, 1h30m)' });
const stringMap = z.record(z.string(), z.string());

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
type PathKey = string | number;

class Locator {
  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** The deepest existing node on the path; for `key`, the key itself within its parent map. */
  issue(path: readonly PathKey[], message: string, key?: string): ConfigIssue {
    const at = (key !== undefined && this.keyPos(path, key)) || this.nodePos(path);
    const full = key === undefined ? path : [...path, key];
    const field = full.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${k}` : k), '') || '(root)';
    return { file: this.file, ...at, field, message };
  }

  private nodePos(path: readonly PathKey[]): { line: number; column: number } {
    for (let depth = path.length; depth >= 0; depth--) {
      const sub = path.slice(0, depth);
      const node = sub.length === 0 ? this.doc.contents : this.doc.getIn(sub, true);
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) {
        const pos = this.lines.linePos(range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return { line: 1, column: 1 };
  }

  private keyPos(parent: readonly PathKey[], key: string): { line: number; column: number } | undefined {
    const map = parent.length === 0 ? this.doc.contents : this.doc.getIn(parent, true);
    if (!isMap(map)) return undefined;
    const pair = map.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
    const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
    if (!range) return undefined;
    const pos = this.lines.linePos(range[0]);
    return { line: pos.line, column: pos.col };
  }
}

function validLabel(name: string, mode: NameValidation): boolean {
  if (name === '' || name.startsWith('__')) return false;
  return mode === 'legacy' ? LEGACY_LABEL.test(name) : true;
}

/** rulefmt's checks on one rule; pushes issues and returns the recording rule when it is one. */
function checkRule(rule: RawRule, path: PathKey[], groupLabels: Record<string, string>, mode: NameValidation, at: Locator, issues: ConfigIssue[]): RecordingRule | undefined {
  const before = issues.length;
  if (rule.record !== undefined && rule.alert !== undefined) issues.push(at.issue(path, "only one of 'record' and 'alert' must be set", 'record'));
  if (rule.record === undefined && rule.alert === undefined) issues.push(at.issue(path, "one of 'record' or 'alert' must be set"));
  const expr = rule.expr === undefined ? '' : String(rule.expr);
  let ast: Expr | undefined;
  if (expr.trim() === '') {
    issues.push(at.issue(path, "field 'expr' must be set in rule", 'expr'));
  } else {
    try {
      ast = parsePromql(expr);
    } catch (err) {
      issues.push(at.issue([...path, 'expr'], `could not parse expression: ${err instanceof PromqlError ? err.message : String(err)}`));
    }
  }
  if (rule.record !== undefined) {
    for (const field of ['for', 'keep_firing_for', 'annotations'] as const) {
      if (rule[field] !== undefined) issues.push(at.issue(path, `invalid field '${field}' in recording rule`, field));
    }
    if (!METRIC_NAME.test(rule.record)) issues.push(at.issue([...path, 'record'], `invalid recording rule name: ${rule.record}`));
  }
  for (const name of Object.keys(rule.labels ?? {})) {
    if (!validLabel(name, mode)) issues.push(at.issue([...path, 'labels'], `invalid label name: ${name}`, name));
  }
  for (const name of Object.keys(rule.annotations ?? {})) {
    if (!validLabel(name, mode)) issues.push(at.issue([...path, 'annotations'], `invalid annotation name: ${name}`, name));
  }
  if (issues.length > before || rule.record === undefined || ast === undefined) return undefined;
  return { record: rule.record, expr, ast, labels: { ...groupLabels, ...rule.labels } };
}

/** Validates a rule file's text; `file` names the source in errors and in the groups. */
export function parseRuleFile(text: string, file: string, opts: RuleLoadOptions = {}): RuleGroup[] {
  const lines = new LineCounter();
  // merge: Prometheus's YAML reader resolves `<<` merge keys, and rule files use them for shared labels.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, merge: true });
  if (doc.errors.length > 0) {
    throw new ConfigFileError(
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, field: '(yaml)', message: e.message.split('\n')[0] };
      }),
    );
  }
  const at = new Locator(file, doc, lines);
  const top = (doc.toJS() ?? {}) as Record<string, unknown>;
  const custom = top.kind === 'PrometheusRule';
  const root: PathKey[] = custom ? ['spec'] : [];
  const parsed = ruleFileSchema.safeParse(custom ? { groups: (top.spec as { groups?: unknown } | undefined)?.groups } : top);
  if (!parsed.success) {
    throw new ConfigFileError(
      parsed.error.issues.map((i) => {
        const path = [...root, ...i.path.filter((k): k is PathKey => typeof k === 'string' || typeof k === 'number')];
        return i.code === 'unrecognized_keys' ? at.issue(path, 'unknown field', i.keys[0]) : at.issue(path, i.message);
      }),
    );
  }

  const mode = opts.nameValidation ?? 'utf8';
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  const groups: RuleGroup[] = [];
  (parsed.data.groups ?? []).forEach((g, gi) => {
    const gPath: PathKey[] = [...root, 'groups', gi];
    if (seen.has(g.name)) issues.push(at.issue([...gPath, 'name'], `groupname: "${g.name}" is repeated in the same file`));
    seen.add(g.name);
    for (const name of Object.keys(g.labels ?? {})) {
      if (!validLabel(name, mode)) issues.push(at.issue([...gPath, 'labels'], `invalid label name: ${name}`, name));
    }
    if (g.interval !== undefined && parseDuration(g.interval) === 0) issues.push(at.issue([...gPath, 'interval'], 'interval must be greater than 0'));
    const recording: RecordingRule[] = [];
    let alerting = 0;
    (g.rules ?? []).forEach((r, ri) => {
      const rule = checkRule(r, [...gPath, 'rules', ri], g.labels ?? {}, mode, at, issues);
      if (rule) recording.push(rule);
      if (r.alert !== undefined) alerting++;
    });
    groups.push({
      file,
      name: g.name,
      intervalMs: g.interval === undefined ? (opts.defaultIntervalMs ?? DEFAULT_EVALUATION_INTERVAL_MS) : (parseDuration(g.interval) as number),
      queryOffsetMs: g.query_offset === undefined ? 0 : (parseDuration(g.query_offset) as number),
      limit: g.limit ?? 0,
      recording,
      alerting,
    });
  });
  if (issues.length > 0) throw new ConfigFileError(issues);
  return groups;
}

/** Loads every file of COLLECTOR_RULES; all problems of all files are reported together. */
export function loadRuleFiles(files: readonly string[], opts: RuleLoadOptions = {}): RuleGroup[] {
  const groups: RuleGroup[] = [];
  const issues: ConfigIssue[] = [];
  for (const file of files) {
    try {
      groups.push(...parseRuleFile(readFileSync(file, 'utf8'), file, opts));
    } catch (err) {
      if (err instanceof ConfigFileError) issues.push(...err.issues);
      else issues.push({ file, line: 0, column: 0, field: '(file)', message: `cannot read: ${(err as Error).message}` });
    }
  }
  if (issues.length > 0) throw new ConfigFileError(issues);
  return groups;
}
