import { createHash } from 'node:crypto';
import type { RelabelConfig } from '../config/scrape-config.schema';

/**
 * Prometheus relabelling over plain label sets. A rule list is compiled once per job; `relabel`
 * returns the new label set, or undefined when the series (or target) is dropped. Regexes are
 * anchored at both ends, as in Prometheus; replacements use Go's `$1`, `${1}`, `$name` syntax.
 */
export type LabelSet = Record<string, string>;

export interface CompiledRule {
  readonly config: RelabelConfig;
  readonly regex: RegExp;
}

export function compileRules(configs: readonly RelabelConfig[]): CompiledRule[] {
  return configs.map((config) => ({ config, regex: new RegExp(`^(?:${config.regex})$`) }));
}

/** Go's regexp.Expand: $1, ${1}, $name, ${name}; $$ is a literal $. */
export function expandTemplate(template: string, match: RegExpExecArray): string {
  return template.replace(
    /\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g,
    (_whole, token: string, braced?: string, bare?: string) => {
      if (token === '$') return '$';
      const ref = braced ?? bare ?? '';
      if (/^\d+$/.test(ref)) return match[Number(ref)] ?? '';
      return match.groups?.[ref] ?? '';
    },
  );
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Prometheus's hashmod: the last 8 bytes of the md5 sum, big-endian, modulo the modulus. */
function hashMod(value: string, modulus: number): number {
  const sum = createHash('md5').update(value).digest();
  return Number(sum.readBigUInt64BE(8) % BigInt(modulus));
}

function applyRule(labels: LabelSet, rule: CompiledRule): LabelSet | undefined {
  const { config: c, regex } = rule;
  const value = c.source_labels.map((n) => labels[n] ?? '').join(c.separator);
  const target = c.target_label ?? '';
  switch (c.action) {
    case 'keep':
      return regex.test(value) ? labels : undefined;
    case 'drop':
      return regex.test(value) ? undefined : labels;
    case 'keepequal':
      return value === (labels[target] ?? '') ? labels : undefined;
    case 'dropequal':
      return value === (labels[target] ?? '') ? undefined : labels;
    case 'replace': {
      const m = regex.exec(value);
      if (!m) return labels;
      const name = expandTemplate(target, m);
      if (!LABEL_NAME.test(name)) return labels;
      const out = { ...labels };
      const res = expandTemplate(c.replacement, m);
      if (res === '') delete out[name];
      else out[name] = res;
      return out;
    }
    case 'lowercase':
      return { ...labels, [target]: value.toLowerCase() };
    case 'uppercase':
      return { ...labels, [target]: value.toUpperCase() };
    case 'hashmod':
      return { ...labels, [target]: String(hashMod(value, c.modulus ?? 1)) };
    case 'labelmap': {
      const out = { ...labels };
      for (const [name, v] of Object.entries(labels)) {
        const m = regex.exec(name);
        if (m) out[expandTemplate(c.replacement, m)] = v;
      }
      return out;
    }
    case 'labeldrop':
      return Object.fromEntries(Object.entries(labels).filter(([name]) => !regex.test(name)));
    case 'labelkeep':
      return Object.fromEntries(Object.entries(labels).filter(([name]) => regex.test(name)));
  }
}

export function relabel(labels: LabelSet, rules: readonly CompiledRule[]): LabelSet | undefined {
  let current: LabelSet = labels;
  for (const rule of rules) {
    const next = applyRule(current, rule);
    if (next === undefined) return undefined;
    current = next;
  }
  // A label with an empty value is the same as no label.
  return Object.fromEntries(Object.entries(current).filter(([, v]) => v !== ''));
}
