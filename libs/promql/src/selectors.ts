/** Label matchers: evaluation against label sets, and the selectors a query reads. */
import type { LabelMatcher, Labels } from '@arcwatch/contracts';
import { walkExpr, type Expr, type VectorSelector } from './ast';
import { parsePromql } from './parser';

const regexCache = new Map<string, RegExp>();

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-/:-@[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/**
 * An RE2 pattern (Prometheus's regex dialect) as an anchored JavaScript RegExp with `.` matching
 * newlines. RE2-only syntax is translated: `(?P<name>`, POSIX classes `[[:alpha:]]`, `\z`, and
 * inline flags `(?i)` / `(?s)`, which JavaScript only knows as RegExp flags: an inline flag is
 * applied to the whole pattern (in RE2 it covers the rest of its group — the same in the usual
 * `(?i)…` at the start).
 */
export function anchoredRegex(pattern: string): RegExp {
  let flags = 's';
  const body = pattern
    .replace(/\(\?P</g, '(?<')
    .replace(/\[:(\^?)([a-z]+):\]/g, (m, neg: string, name: string) =>
      POSIX_CLASSES[name] ? (neg ? `^${POSIX_CLASSES[name]}` : POSIX_CLASSES[name]) : m,
    )
    .replace(/\\z/g, '$')
    .replace(/\(\?([imsU]+)\)/g, (_, f: string) => {
      if (f.includes('i') && !flags.includes('i')) flags += 'i';
      return '';
    })
    .replace(/\(\?([imsU]+):/g, (_, f: string) => {
      if (f.includes('i') && !flags.includes('i')) flags += 'i';
      return '(?:';
    });
  return new RegExp(`^(?:${body})$`, flags);
}

/** Prometheus regex matchers are fully anchored and let `.` match newlines. */
export function matcherRegex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    re = anchoredRegex(pattern);
    if (regexCache.size > 10_000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

/** A missing label matches as the empty string, as in Prometheus. */
export function matchesLabel(m: LabelMatcher, value: string | undefined): boolean {
  const v = value ?? '';
  switch (m.type) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return matcherRegex(m.value).test(v);
    case '!~':
      return !matcherRegex(m.value).test(v);
  }
}

export function matchesAll(matchers: readonly LabelMatcher[], labels: Labels): boolean {
  return matchers.every((m) => matchesLabel(m, labels[m.name]));
}

/** Every vector selector of a parsed query, in source order. */
export function vectorSelectorsOf(expr: Expr): VectorSelector[] {
  const out: VectorSelector[] = [];
  walkExpr(expr, (e) => {
    if (e.kind === 'vectorSelector') out.push(e);
  });
  return out;
}

/**
 * The matchers of every selector in a query (for `/api/v1/series`-style lookups and for
 * deciding which data a query touches). Accepts query text or a parsed expression.
 */
export function selectorsOf(expr: string | Expr): LabelMatcher[][] {
  const ast = typeof expr === 'string' ? parsePromql(expr) : expr;
  return vectorSelectorsOf(ast).map((s) => s.matchers.map((m) => ({ ...m })));
}
