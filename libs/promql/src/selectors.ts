/** Label matchers: evaluation against label sets, and the selectors a query reads. */
import type { LabelMatcher, Labels } from '@arcwatch/contracts';
import { walkExpr, type Expr, type VectorSelector } from './ast';
import { parsePromql } from './parser';

const regexCache = new Map<string, RegExp>();

/** Prometheus regex matchers are fully anchored and let `.` match newlines. */
export function matcherRegex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`, 's');
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
