/**
 * Compares two query outcomes as the compliance tester does: the same series label sets, the
 * same timestamps, values equal within a relative tolerance (1e-5 of the smaller magnitude, the
 * tester's default) with NaN equal to NaN, and series order ignored unless the query defines one.
 */
import type { Labels } from '@arcwatch/contracts';
import { formatPromValue } from '../src/literals';
import { formatLabels, labelsKey } from '../src/values';
import type { QueryOutcome } from './prometheus-reference';

export const VALUE_FRACTION = 1e-5;

export function sameValue(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= VALUE_FRACTION * Math.min(Math.abs(a), Math.abs(b));
}

/**
 * Whether the order of an instant result is part of the answer: `sort`/`sort_desc` at the top,
 * or `topk`/`bottomk` at the top without grouping (with grouping, Prometheus emits the groups in
 * map order, which is not defined).
 */
export function orderMatters(query: string): boolean {
  const q = query.trim();
  if (/^sort(_desc)?\s*\(/.test(q)) return true;
  return /^(topk|bottomk)\s*\(/.test(q);
}

function show(v: number): string {
  return formatPromValue(v);
}

function compareVectors(
  want: { labels: Labels; timeMs: number; value: number }[],
  got: { labels: Labels; timeMs: number; value: number }[],
  ordered: boolean,
): string | undefined {
  const wantKeys = want.map((s) => labelsKey(s.labels));
  const gotByKey = new Map(got.map((s, i) => [labelsKey(s.labels), { s, i }]));
  const missing = want.filter((_, i) => !gotByKey.has(wantKeys[i]!));
  const wantSet = new Set(wantKeys);
  const extra = got.filter((s) => !wantSet.has(labelsKey(s.labels)));
  if (missing.length || extra.length || want.length !== got.length) {
    const list = (xs: typeof want) =>
      xs
        .slice(0, 3)
        .map((s) => `${formatLabels(s.labels)} ${show(s.value)}`)
        .join(', ');
    return (
      `series differ: reference ${want.length}, ours ${got.length}` +
      (missing.length ? `; missing ${list(missing)}` : '') +
      (extra.length ? `; extra ${list(extra)}` : '')
    );
  }
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = gotByKey.get(wantKeys[i]!)!;
    if (w.timeMs !== g.s.timeMs) return `${formatLabels(w.labels)}: timestamp ${w.timeMs} vs ${g.s.timeMs}`;
    if (!sameValue(w.value, g.s.value))
      return `${formatLabels(w.labels)}: reference ${show(w.value)}, ours ${show(g.s.value)}`;
    if (ordered && g.i !== i)
      return `order differs: ${formatLabels(w.labels)} at ${i} in the reference, ${g.i} in ours`;
  }
  return undefined;
}

type MatrixSeries = { labels: Labels; timestamps: number[]; values: number[] };

function compareMatrices(want: MatrixSeries[], got: MatrixSeries[]): string | undefined {
  const gotByKey = new Map(got.map((s) => [labelsKey(s.labels), s]));
  const wantKeys = new Set(want.map((s) => labelsKey(s.labels)));
  const missing = want.filter((s) => !gotByKey.has(labelsKey(s.labels)));
  const extra = got.filter((s) => !wantKeys.has(labelsKey(s.labels)));
  if (missing.length || extra.length || want.length !== got.length) {
    const list = (xs: MatrixSeries[]) =>
      xs
        .slice(0, 3)
        .map((s) => formatLabels(s.labels))
        .join(', ');
    return (
      `series differ: reference ${want.length}, ours ${got.length}` +
      (missing.length ? `; missing ${list(missing)}` : '') +
      (extra.length ? `; extra ${list(extra)}` : '')
    );
  }
  for (const w of want) {
    const g = gotByKey.get(labelsKey(w.labels))!;
    const n = Math.max(w.timestamps.length, g.timestamps.length);
    for (let i = 0; i < n; i++) {
      const wt = w.timestamps[i];
      const gt = g.timestamps[i];
      if (wt !== gt) {
        return `${formatLabels(w.labels)}: point ${i} at ${wt === undefined ? 'none' : wt / 1000} in the reference, ${gt === undefined ? 'none' : gt / 1000} in ours (${w.timestamps.length} vs ${g.timestamps.length} points)`;
      }
      if (!sameValue(w.values[i]!, g.values[i]!))
        return `${formatLabels(w.labels)} @${wt! / 1000}: reference ${show(w.values[i]!)}, ours ${show(g.values[i]!)}`;
    }
  }
  return undefined;
}

/** `undefined` when the outcomes agree, otherwise what differs. */
export function compareOutcomes(
  reference: QueryOutcome,
  ours: QueryOutcome,
  opts: { shouldFail: boolean; ordered: boolean },
): string | undefined {
  if (opts.shouldFail) {
    if (reference.ok) return 'the reference accepted a query that should fail';
    return ours.ok ? 'ours accepted a query that should fail' : undefined;
  }
  if (!reference.ok) return `the reference failed: ${reference.error}`;
  if (!ours.ok) return `ours failed: ${ours.error}`;
  if (reference.type !== ours.type) return `result type ${reference.type} in the reference, ${ours.type} in ours`;
  switch (reference.type) {
    case 'scalar': {
      const o = ours as typeof reference;
      if (reference.timeMs !== o.timeMs) return `scalar timestamp ${reference.timeMs} vs ${o.timeMs}`;
      return sameValue(reference.value, o.value)
        ? undefined
        : `scalar: reference ${show(reference.value)}, ours ${show(o.value)}`;
    }
    case 'string':
      return reference.value === (ours as typeof reference).value ? undefined : 'strings differ';
    case 'vector':
      return compareVectors(reference.samples, (ours as typeof reference).samples, opts.ordered);
    case 'matrix':
      return compareMatrices(reference.series, (ours as typeof reference).series);
  }
}
