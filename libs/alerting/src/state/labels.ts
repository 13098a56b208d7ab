/** Label-set helpers with Prometheus's ordering and printing. */
import { goQuote } from '../template/go-format';

export type LabelSet = Record<string, string>;

/**
 * Order-independent identity of a label set. The separators are ASCII unit / record separators,
 * not NUL: the key is also a JSON object key in persisted state, and PostgreSQL's jsonb refuses \u0000.
 */
export function labelsKey(labels: LabelSet): string {
  let key = '';
  for (const n of Object.keys(labels).sort()) key += n + '\u001f' + labels[n] + '\u001e';
  return key;
}

function byteCompare(a: string, b: string): number {
  // Go compares strings byte-wise; for UTF-16 strings outside the BMP this matches closely enough.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** labels.Compare: name by name, then value, shorter set first on a tie. */
export function compareLabelSets(a: LabelSet, b: LabelSet): number {
  const an = Object.keys(a).sort();
  const bn = Object.keys(b).sort();
  const n = Math.min(an.length, bn.length);
  for (let i = 0; i < n; i++) {
    const c = byteCompare(an[i], bn[i]);
    if (c !== 0) return c;
    const v = byteCompare(a[an[i]], b[bn[i]]);
    if (v !== 0) return v;
  }
  return an.length - bn.length;
}

const LEGACY_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** labels.String(): `{a="1", b="2"}`, names quoted when they are not legacy names. */
export function formatLabelSet(labels: LabelSet): string {
  const parts = Object.keys(labels)
    .sort()
    .map((n) => `${LEGACY_NAME.test(n) ? n : goQuote(n)}=${goQuote(labels[n])}`);
  return `{${parts.join(', ')}}`;
}

export function sameLabels(a: LabelSet, b: LabelSet): boolean {
  return labelsKey(a) === labelsKey(b);
}
