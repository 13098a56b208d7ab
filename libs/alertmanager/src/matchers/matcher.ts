import { compileAnchored } from './go-regexp';

export const MATCH_TYPES = ['=', '!=', '=~', '!~'] as const;
export type MatchType = (typeof MATCH_TYPES)[number];

export type LabelSet = Readonly<Record<string, string>>;

/** A label matcher; regex matchers are fully anchored, a missing label reads as "". */
export interface Matcher {
  readonly name: string;
  readonly type: MatchType;
  readonly value: string;
}

/**
 * Which parser and label-name rule apply. Alertmanager ≥ 0.27 defaults to `fallback` (the UTF-8
 * parser, falling back to the classic one); `classic` is `--enable-feature=classic-mode` and what
 * upstream's own tests use; `utf8` is `--enable-feature=utf8-strict-mode`.
 */
export const MATCHER_MODES = ['classic', 'utf8', 'fallback'] as const;
export type MatcherMode = (typeof MATCHER_MODES)[number];

export class MatcherError extends Error {
  readonly code = 'INVALID_MATCHER' as const;
  constructor(message: string) {
    super(message);
    this.name = 'MatcherError';
  }
}

/** Builds a matcher, compiling the regex now so that a bad one fails at load time. */
export function newMatcher(type: MatchType, name: string, value: string): Matcher {
  if (type === '=~' || type === '!~') compileAnchored(value);
  return { name, type, value };
}

export function matchesValue(m: Matcher, v: string): boolean {
  switch (m.type) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return compileAnchored(m.value).test(v);
    case '!~':
      return !compileAnchored(m.value).test(v);
  }
}

export function matchesLabels(matchers: readonly Matcher[], labels: LabelSet): boolean {
  return matchers.every((m) => matchesValue(m, Object.hasOwn(labels, m.name) ? labels[m.name] : ''));
}

const TYPE_ORDER: Record<MatchType, number> = { '=': 0, '!=': 1, '=~': 2, '!~': 3 };

function cmp(a: string, b: string): number {
  // Go compares strings bytewise; for UTF-16 strings code-point order is the same as UTF-8 byte order.
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i].codePointAt(0) ?? 0) - (y[i].codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Alertmanager's matcher order: by name, then value, then type. */
export function compareMatchers(a: Matcher, b: Matcher): number {
  return cmp(a.name, b.name) || cmp(a.value, b.value) || TYPE_ORDER[a.type] - TYPE_ORDER[b.type];
}

export function sortMatchers(ms: readonly Matcher[]): Matcher[] {
  return [...ms].sort(compareMatchers);
}

const RESERVED = /[\s{}!=~,\\"'`]/u;

/** Go's strconv.Quote for the characters that occur in label names and values. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** The text form amtool prints: `name="value"`, or both quoted when the name needs it. */
export function matcherToString(m: Matcher): string {
  if (RESERVED.test(m.name)) return `${goQuote(m.name)}${m.type}${goQuote(m.value)}`;
  const escaped = m.value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return `${m.name}${m.type}"${escaped}"`;
}

export function matchersToString(ms: readonly Matcher[]): string {
  return `{${ms.map(matcherToString).join(',')}}`;
}

const CLASSIC_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isValidClassicLabelName(name: string): boolean {
  return CLASSIC_LABEL_NAME.test(name);
}

/** In UTF-8 modes any non-empty valid UTF-8 string is a label name. */
export function isValidUtf8LabelName(name: string): boolean {
  return name.length > 0 && isWellFormed(name);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A JavaScript string that is valid Unicode (no lone surrogates), i.e. encodes to valid UTF-8. */
export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

export function isValidLabelName(name: string, mode: MatcherMode): boolean {
  return mode === 'classic' ? isValidClassicLabelName(name) : isValidUtf8LabelName(name);
}
