/**
 * histogram_quantile over the whole step grid (see range-batch.ts): bucket rows are grouped and
 * parsed once instead of once per step, and each group's buckets are read in upper-bound order
 * into two scratch arrays per step, with the same arithmetic as the step-by-step path
 * (`sortedBucketQuantile`).
 */
import type { Labels } from '@arcwatch/contracts';
import type { Call } from './ast';
import type { Evaluator } from './evaluator';
import { formatG } from './functions';
import { parseLe, sortedBucketQuantile } from './histogram-quantile';
import type { GridRows } from './range-batch';
import { METRIC_NAME, keyWithout } from './values';

const WITHOUT_LE_AND_NAME = new Set(['le', METRIC_NAME]);

/** Where a row comes in its step's input vector: the step-by-step path groups in that order. */
function positionOf(rows: GridRows, r: number, k: number): number {
  return rows.first ? rows.first[r * rows.steps + k] : r;
}

/**
 * Grid rows of `histogram_quantile(q, inner)` for a literal q, or undefined to go step by step
 * (q computed per step, or two buckets of a group with the same bound spelled differently,
 * whose counts the step-by-step path adds in per-step input order).
 */
export function histogramQuantileRows(ev: Evaluator, call: Call, q: number, inner: GridRows): GridRows | undefined {
  const { steps } = inner;
  // the step-by-step path warns about q at every step, before looking at the buckets
  if (!(q >= 0 && q <= 1))
    ev.notes.warn(`quantile value should be between 0 and 1, got ${formatG(q)}`, call.args[0].pos);
  const groupIds = new Map<string, number>();
  const labels: Labels[] = [];
  const members: { row: number; bound: number }[][] = [];
  const malformed: { row: number; step: number; pos: number }[] = [];
  for (let r = 0; r < inner.labels.length; r++) {
    const l = inner.labels[r];
    const bound = parseLe(l.le);
    if (bound === undefined) {
      const step = inner.present.subarray(r * steps, (r + 1) * steps).indexOf(1);
      if (step >= 0) malformed.push({ row: r, step, pos: positionOf(inner, r, step) });
      continue;
    }
    const key = keyWithout(l, WITHOUT_LE_AND_NAME);
    let g = groupIds.get(key);
    if (g === undefined) {
      groupIds.set(key, (g = labels.length));
      const own = { ...l };
      delete own.le;
      delete own[METRIC_NAME];
      labels.push(own);
      members.push([]);
    }
    members[g].push({ row: r, bound });
  }
  // in the order the step-by-step path first meets them
  malformed.sort((a, b) => a.step - b.step || a.pos - b.pos);
  for (const { row } of malformed) {
    const l = inner.labels[row];
    ev.notes.warn(
      `bucket label "le" is missing or has a malformed value of ${JSON.stringify(l.le ?? '')} for metric name ${JSON.stringify(l[METRIC_NAME] ?? '')}`,
      call.args[1].pos,
    );
  }
  for (const m of members) {
    // stable: equal bounds keep row order, as Array.prototype.sort does on the step-by-step path
    m.sort((a, b) => a.bound - b.bound);
    for (let i = 1; i < m.length; i++) if (m[i].bound === m[i - 1].bound || Number.isNaN(m[i].bound)) return undefined;
    if (m.length > 0 && Number.isNaN(m[0].bound)) return undefined;
  }
  const n = labels.length * steps;
  const values = new Float64Array(n);
  const present = new Uint8Array(n);
  const first = new Int32Array(n);
  let bounds = new Float64Array(16);
  let counts = new Float64Array(16);
  const monotonicNoted = new Set<string>();
  members.forEach((m, g) => {
    ev.checkDeadline();
    if (m.length > bounds.length) {
      bounds = new Float64Array(m.length);
      counts = new Float64Array(m.length);
    }
    for (let k = 0; k < steps; k++) {
      let used = 0;
      let firstPos = Infinity;
      let firstRow = -1;
      for (const { row, bound } of m) {
        if (!inner.present[row * steps + k]) continue;
        bounds[used] = bound;
        counts[used++] = inner.values[row * steps + k];
        const pos = positionOf(inner, row, k);
        if (pos < firstPos) {
          firstPos = pos;
          firstRow = row;
        }
      }
      if (used === 0) continue;
      const at = g * steps + k;
      const r = sortedBucketQuantile(q, bounds, counts, used);
      values[at] = r.value;
      present[at] = 1;
      first[at] = firstPos;
      if (r.forcedMonotonic) {
        const name = inner.labels[firstRow][METRIC_NAME] ?? '';
        if (!monotonicNoted.has(name)) {
          monotonicNoted.add(name);
          ev.notes.info(
            `input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name ${JSON.stringify(name)}`,
            call.args[1].pos,
          );
        }
      }
    }
  });
  return { labels, dropName: false, steps, values, present, first, counts: inner.counts };
}
