/** Runtime values of the evaluator and the label-set helpers they need. */
import type { Labels } from '@arcwatch/contracts';

export const METRIC_NAME = '__name__';

/** One element of an instant vector at the current evaluation time. */
export interface Sample {
  labels: Labels;
  value: number;
  /** Timestamp of the stored sample, set by vector selectors (timestamp() needs it). */
  ts?: number;
  /**
   * Delayed name removal (Prometheus's default in its own tests): functions and operators that
   * drop `__name__` only mark the sample; the name goes when the result leaves the engine, so
   * label_replace() and friends can still read or restore it.
   */
  dropName?: boolean;
}

/** One series of a range vector: points in (t - range, t], ordered by time. */
export interface RangeSeries {
  labels: Labels;
  ts: ArrayLike<number>;
  vs: ArrayLike<number>;
  dropName?: boolean;
}

export type Value =
  | { type: 'scalar'; value: number }
  | { type: 'string'; value: string }
  | { type: 'vector'; samples: Sample[] }
  | { type: 'matrix'; series: RangeSeries[] };

/** A stable identity for a label set (order-independent). */
export function labelsKey(labels: Labels): string {
  const names = Object.keys(labels).sort();
  let key = '';
  for (const n of names) key += n + '\u0000' + labels[n] + '\u0001';
  return key;
}

/** Identity of a sample's label set as it will look once a pending name removal is applied. */
export function outputKey(s: { labels: Labels; dropName?: boolean }): string {
  return labelsKey(s.dropName ? withoutName(s.labels) : s.labels);
}

/**
 * Removes the metric name, and with it the type and unit labels (`__type__`, `__unit__`) that
 * Prometheus's type-and-unit-labels feature attaches: they describe the named metric only.
 */
export function withoutName(labels: Labels): Labels {
  if (!(METRIC_NAME in labels) && !('__type__' in labels) && !('__unit__' in labels)) return labels;
  const out = { ...labels };
  delete out[METRIC_NAME];
  delete out.__type__;
  delete out.__unit__;
  return out;
}

/** Key over only the named labels (`on(...)`, `by(...)`); missing labels count as empty. */
export function keyOn(labels: Labels, names: readonly string[]): string {
  let key = '';
  for (const n of names) key += (labels[n] ?? '') + '\u0001';
  return key;
}

/** Key over all labels except the named ones (`ignoring(...)`, `without(...)`). */
export function keyWithout(labels: Labels, names: ReadonlySet<string>): string {
  const kept = Object.keys(labels)
    .filter((n) => !names.has(n))
    .sort();
  let key = '';
  for (const n of kept) key += n + '\u0000' + labels[n] + '\u0001';
  return key;
}

export function pickLabels(labels: Labels, names: readonly string[]): Labels {
  const out: Labels = {};
  for (const n of names) if (labels[n] !== undefined && labels[n] !== '') out[n] = labels[n];
  return out;
}

export function dropLabels(labels: Labels, names: ReadonlySet<string>): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(labels)) if (!names.has(k)) out[k] = v;
  return out;
}

/** Orders label sets the way Prometheus sorts matrix results (label by label, names first). */
export function compareLabels(a: Labels, b: Labels): number {
  return compareSortedLabels(a, Object.keys(a).sort(), b, Object.keys(b).sort());
}

/**
 * Sorts in compareLabels' order with each label set's names sorted once, not once per comparison
 * (a thousand series of a dozen labels each: about 10,000 comparisons, two name sorts each).
 * Stable, like Array.prototype.sort.
 */
export function sortByLabels<T extends { labels: Labels }>(items: T[]): T[] {
  if (items.length < 2) return items;
  const keyed = items.map((item) => ({ item, names: Object.keys(item.labels).sort() }));
  keyed.sort((x, y) => compareSortedLabels(x.item.labels, x.names, y.item.labels, y.names));
  for (let i = 0; i < keyed.length; i++) items[i] = keyed[i].item;
  return items;
}

function compareSortedLabels(a: Labels, an: readonly string[], b: Labels, bn: readonly string[]): number {
  const n = Math.min(an.length, bn.length);
  for (let i = 0; i < n; i++) {
    if (an[i] !== bn[i]) return an[i] < bn[i] ? -1 : 1;
    const av = a[an[i]];
    const bv = b[bn[i]];
    if (av !== bv) return av < bv ? -1 : 1;
  }
  return an.length - bn.length;
}

/** Prometheus prints label sets as `name{a="b"}` for messages. */
export function formatLabels(labels: Labels): string {
  const name = labels[METRIC_NAME] ?? '';
  const rest = Object.keys(labels)
    .filter((k) => k !== METRIC_NAME)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${name}{${rest.join(', ')}}`;
}
