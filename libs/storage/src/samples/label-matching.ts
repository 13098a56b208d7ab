import type { LabelMatcher, Labels } from '@arcwatch/contracts';
import { StorageError } from '../errors';

/** A matcher compiled once per query: regexes fully anchored, as Prometheus does. */
export type CompiledMatcher = (labels: Labels) => boolean;

export function compileMatcher(m: LabelMatcher): CompiledMatcher {
  const { name, value } = m;
  switch (m.type) {
    case '=':
      return (l) => (l[name] ?? '') === value;
    case '!=':
      return (l) => (l[name] ?? '') !== value;
    case '=~':
    case '!~': {
      let re: RegExp;
      try {
        // RE2 syntax is close to JS with the `s` flag (Prometheus sets (?s): `.` matches \n)
        re = new RegExp(`^(?:${value})$`, 's');
      } catch (err) {
        throw new StorageError('INVALID_MATCHER', `invalid regex in matcher ${name}${m.type}${JSON.stringify(value)}`, {
          cause: err,
        });
      }
      return m.type === '=~' ? (l) => re.test(l[name] ?? '') : (l) => !re.test(l[name] ?? '');
    }
    default:
      throw new StorageError('INVALID_MATCHER', `unknown match type ${String((m as { type: unknown }).type)}`);
  }
}

export function compileMatchers(ms: readonly LabelMatcher[]): CompiledMatcher {
  const compiled = ms.map(compileMatcher);
  return (l) => compiled.every((c) => c(l));
}

/**
 * The label that narrows the candidates fastest: an equality on __name__ when there is one
 * (the catalog keeps an index by metric name), so most queries never scan the whole catalog.
 */
export function metricNameOf(ms: readonly LabelMatcher[]): string | undefined {
  return ms.find((m) => m.name === '__name__' && m.type === '=')?.value;
}

/**
 * The canonical identity of a label set: sorted `name=value` pairs with separators that cannot
 * appear in valid UTF-8 label text. Its hash is the catalog's unique key.
 */
export function canonicalLabelKey(labels: Labels): string {
  const names = Object.keys(labels).sort();
  let out = '';
  for (const n of names) {
    const v = labels[n]!;
    // an empty value is an absent label (Prometheus semantics)
    if (v !== '') out += `${n}\u0000${v}\u0001`;
  }
  return out;
}
