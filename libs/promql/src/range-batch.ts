/**
 * Range queries over the whole step grid at once, series by series. Evaluating step by step
 * touches every series at one point per step, which for thousands of series is a cache miss per
 * series and step plus a Sample object each; Prometheus evaluates selectors and range functions
 * series by series for the same reason. A node's value at time t depends on t only, so for the
 * common shapes (selectors, rate-like functions and quantile_over_time over range selectors,
 * sum/avg/min/max/count/group over those, and histogram_quantile over any of them) the values of every step of the query grid are computed in one pass, kept
 * in typed arrays, and handed out as an instant vector when the step-by-step evaluation asks for
 * a grid step. Anything else, and every time off the grid (subquery steps), goes the usual way.
 */
import type { Labels } from '@arcwatch/contracts';
import { isStaleNaN } from '@arcwatch/contracts';
import type { AggregateExpr, Call, Expr, MatrixSelector, VectorSelector } from './ast';
import { resetCounts, searchAfter, seekAfter, type Evaluator, type PreparedSeries } from './evaluator';
import { formatG, warnPossibleNonCounter } from './functions';
import { INDEXED_RANGE_FUNCTIONS, extrapolate, extrapolatedRateIn, type IndexedRangeFunction } from './range-functions';
import { histogramQuantileRows } from './range-batch-histogram';
import { rollupCallSource, rollupSelectorSource } from './rollup-eval';
import { MeanAccumulator, quantileIn } from './math-helpers';
import { executionError } from './errors';
import {
  METRIC_NAME,
  keyOn,
  keyWithout,
  labelsKey,
  pickLabels,
  dropLabels,
  withoutName,
  type Sample,
  type Value,
} from './values';

/** Values of rows (series) × steps, row-major: index r * steps + k. */
export interface GridRows {
  labels: Labels[];
  dropName: boolean;
  steps: number;
  values: Float64Array;
  present: Uint8Array;
  /** Timestamps of the selected samples (vector selectors only; timestamp() reads them). */
  ts?: Float64Array;
  /** Samples the step loads (selectors), for the max-samples limit. */
  counts?: Float64Array;
  /** Per row and step, the inner row that made the group appear first (aggregations), for output order. */
  first?: Int32Array;
}

const BATCHED_AGGREGATIONS = new Set(['sum', 'avg', 'min', 'max', 'count', 'group']);
const RATE_KINDS: ReadonlySet<string> = new Set(['rate', 'increase', 'delta']);
/** Rows × steps above this go step by step: the typed arrays would cost more than they save. */
const MAX_GRID_CELLS = 16_000_000;

/** The value of `e` at a grid step, or undefined when `e` or `t` is not for this path. */
export function gridValue(ev: Evaluator, e: Expr, t: number): Value | undefined {
  const { startMs, endMs, stepMs } = ev.params;
  const off = t - startMs;
  if (!(stepMs > 0) || t > endMs || off < 0 || off % stepMs !== 0) return undefined;
  const rows = gridRows(ev, e);
  return rows ? { type: 'vector', samples: samplesAt(ev, rows, off / stepMs) } : undefined;
}

/**
 * The whole result of a range query whose expression is on the grid path, series by series,
 * without an instant vector per step: what the step loop in engine.ts would collect (name
 * removal applied, series whose labels become equal merged, or rejected where two share a step).
 */
export function gridMatrix(
  ev: Evaluator,
  e: Expr,
): { labels: Labels; timestamps: number[]; values: number[] }[] | undefined {
  const { startMs, stepMs } = ev.params;
  if (!(stepMs > 0)) return undefined;
  const rows = gridRows(ev, e);
  if (!rows) return undefined;
  const { steps, present, values } = rows;
  if (rows.counts) {
    for (let k = 0; k < steps; k++) {
      ev.resetSampleCount();
      ev.countSamples(rows.counts[k]);
    }
  }
  const byKey = new Map<string, { labels: Labels; rows: number[] }>();
  for (let r = 0; r < rows.labels.length; r++) {
    if (!present.subarray(r * steps, (r + 1) * steps).includes(1)) continue;
    const labels = rows.dropName ? withoutName(rows.labels[r]) : rows.labels[r];
    const key = labelsKey(labels);
    const entry = byKey.get(key);
    if (entry) entry.rows.push(r);
    else byKey.set(key, { labels, rows: [r] });
  }
  const out: { labels: Labels; timestamps: number[]; values: number[] }[] = [];
  for (const { labels, rows: members } of byKey.values()) {
    const timestamps: number[] = [];
    const vs: number[] = [];
    for (let k = 0; k < steps; k++) {
      let found = -1;
      for (const r of members) {
        if (!present[r * steps + k]) continue;
        if (found >= 0) throw executionError('vector cannot contain metrics with the same labelset');
        found = r;
      }
      if (found < 0) continue;
      timestamps.push(startMs + k * stepMs);
      vs.push(values[found * steps + k]);
    }
    out.push({ labels, timestamps, values: vs });
  }
  return out;
}

function gridRows(ev: Evaluator, e: Expr): GridRows | undefined {
  const memo = ev.gridMemo;
  if (memo.has(e)) return memo.get(e) ?? undefined;
  let rows: GridRows | undefined;
  if (e.kind === 'vectorSelector') {
    const rollups = ev.rollups.get(e);
    if (rollups) rows = materialise(rollupSelectorSource(ev, e, rollups), true);
    else rows = fits(ev, ev.preparedSeries(e).length) ? selectorRows(ev, e) : undefined;
  } else if (e.kind === 'call') rows = e.func === 'histogram_quantile' ? histogramRows(ev, e) : rangeCallRows(ev, e);
  else if (e.kind === 'aggregate') rows = aggregateRows(ev, e);
  else if (e.kind === 'paren') rows = gridRows(ev, e.expr);
  memo.set(e, rows ?? null);
  return rows;
}

function fits(ev: Evaluator, rows: number): boolean {
  return rows * ev.stepCount() <= MAX_GRID_CELLS;
}

/**
 * A node on the grid path that yields its rows one at a time: `fill(r, …)` writes row r's values
 * and presence at `base`, and adds its samples to `counts`. Rows are filled in order 0, 1, …
 * exactly once. An aggregation folds each row as it comes (through one reused row buffer)
 * instead of first materialising rows × steps cells it reads once.
 */
interface RowSource {
  labels: Labels[];
  dropName: boolean;
  steps: number;
  counts: Float64Array;
  fill(r: number, values: Float64Array, present: Uint8Array, base: number, ts: Float64Array | undefined): void;
}

/** Materialises every row of a source into one grid. */
function materialise(src: RowSource, withTs: boolean): GridRows {
  const n = src.labels.length * src.steps;
  const values = new Float64Array(n);
  const present = new Uint8Array(n);
  const ts = withTs ? new Float64Array(n) : undefined;
  for (let r = 0; r < src.labels.length; r++) src.fill(r, values, present, r * src.steps, ts);
  const rows: GridRows = {
    labels: src.labels,
    dropName: src.dropName,
    steps: src.steps,
    values,
    present,
    counts: src.counts,
  };
  if (ts) rows.ts = ts;
  return rows;
}

function selectorSource(ev: Evaluator, sel: VectorSelector): RowSource {
  const series = ev.preparedSeries(sel);
  const { lookbackMs } = ev.params;
  const refs = ev.gridReferences(sel);
  const steps = refs.length;
  const counts = new Float64Array(steps);
  return {
    labels: series.map((s) => s.labels),
    dropName: false,
    steps,
    counts,
    fill(r, values, present, base, ts) {
      ev.checkDeadline();
      const s = series[r];
      const sts = s.ts;
      const svs = s.vs;
      let next = 0;
      for (let k = 0; k < steps; k++) {
        const ref = refs[k];
        next = k > 0 && ref >= refs[k - 1] ? seekAfter(sts, next, ref) : searchAfter(sts, ref, 0);
        const i = next - 1;
        const v = i < 0 ? NaN : svs[i];
        // the NaN test first, inline: isStaleNaN is reached through a getter (evaluator.ts isStale)
        if (i < 0 || sts[i] <= ref - lookbackMs || (v !== v && isStaleNaN(v))) {
          present[base + k] = 0;
          continue;
        }
        values[base + k] = v;
        if (ts) ts[base + k] = sts[i];
        present[base + k] = 1;
        counts[k]++;
      }
    },
  };
}

function selectorRows(ev: Evaluator, sel: VectorSelector): GridRows {
  return materialise(selectorSource(ev, sel), true);
}

function histogramRows(ev: Evaluator, call: Call): GridRows | undefined {
  const q = unwrap(call.args[0]);
  if (q.kind !== 'number') return undefined;
  const inner = gridRows(ev, unwrap(call.args[1]));
  return inner ? histogramQuantileRows(ev, call, q.value, inner) : undefined;
}

/** The per-window function of a call on the grid path and its range argument, if it has one. */
function indexedCall(call: Call): { fn: IndexedRangeFunction; arg: Expr; q?: number } | undefined {
  if (call.func === 'quantile_over_time' && call.args.length === 2) {
    // a literal quantile only: one computed per step would have to be evaluated step by step
    const q = unwrap(call.args[0]);
    if (q.kind !== 'number') return undefined;
    const phi = q.value;
    return { fn: (_ts, vs, from, to) => quantileIn(phi, vs, from, to), arg: unwrap(call.args[1]), q: phi };
  }
  if (!Object.hasOwn(INDEXED_RANGE_FUNCTIONS, call.func) || call.args.length !== 1) return undefined;
  return { fn: INDEXED_RANGE_FUNCTIONS[call.func], arg: unwrap(call.args[0]) };
}

/**
 * rate / increase / delta of one series at every step when the windows only move forward: each
 * edge walks on point by point (a step moves it one point or so; past 8, a binary search)
 * instead of a seek call per edge and step, and the kernel is extrapolatedRateIn's written out:
 * the same arithmetic in the same order (extrapolate), so the same bits. Returns whether any
 * step has a value.
 */
function rateRow(
  ts: Float64Array,
  vs: Float64Array,
  resets: Uint32Array,
  starts: Float64Array,
  ends: Float64Array,
  kind: 'rate' | 'increase' | 'delta',
  out: { values: Float64Array; present: Uint8Array; base: number; counts: Float64Array },
): boolean {
  const { values, present, base, counts } = out;
  const isCounter = kind !== 'delta';
  const isRate = kind === 'rate';
  const n = ts.length;
  const steps = starts.length;
  let from = steps > 0 ? searchAfter(ts, starts[0], 0) : 0;
  let to = from;
  let any = false;
  for (let k = 0; k < steps; k++) {
    present[base + k] = 0;
    const start = starts[k];
    const end = ends[k];
    // a few points a step, then a binary search (a step much wider than the scrape interval)
    for (let walked = 0; from < n && ts[from] <= start; from++)
      if (++walked === 8) {
        from = searchAfter(ts, start, from);
        break;
      }
    if (to < from) to = from;
    for (let walked = 0; to < n && ts[to] <= end; to++)
      if (++walked === 8) {
        to = searchAfter(ts, end, to);
        break;
      }
    const count = to - from;
    if (count <= 0) continue;
    counts[k] += count;
    if (count < 2) continue;
    const last = to - 1;
    let result = vs[last] - vs[from];
    if (isCounter && resets[last] > resets[from])
      for (let i = from + 1; i < to; i++) if (vs[i] < vs[i - 1]) result += vs[i - 1];
    values[base + k] = extrapolate(result, count, ts[from], vs[from], ts[last], start, end, isCounter, isRate);
    present[base + k] = 1;
    any = true;
  }
  return any;
}

function rangeCallRows(ev: Evaluator, call: Call): GridRows | undefined {
  const src = rangeCallSource(ev, call);
  return src ? materialise(src, false) : undefined;
}

function rangeCallSource(ev: Evaluator, call: Call): RowSource | undefined {
  const first = call.args[0];
  const rollups = first?.kind === 'matrixSelector' ? ev.rollups.get(first.selector) : undefined;
  if (rollups && first?.kind === 'matrixSelector') return rollupCallSource(ev, call, first, rollups);
  const indexed = indexedCall(call);
  const arg = indexed?.arg;
  if (!indexed || arg?.kind !== 'matrixSelector' || arg.extension) return undefined;
  const { fn } = indexed;
  const ms: MatrixSelector = arg;
  const series = ev.preparedSeries(ms.selector);
  if (!fits(ev, series.length)) return undefined;
  // the step-by-step path warns at every step, before selecting
  if (indexed.q !== undefined && !(indexed.q >= 0 && indexed.q <= 1))
    ev.notes.warn(`quantile value should be between 0 and 1, got ${formatG(indexed.q)}`, call.args[0].pos);
  const checkCounter = call.func === 'rate' || call.func === 'increase';
  // rate, increase and delta call their kernel directly: through `fn` the call site sees every
  // indexed function a long-lived process has run and is no longer inlined
  const rateKind = RATE_KINDS.has(call.func) ? (call.func as 'rate' | 'increase' | 'delta') : undefined;
  const ctx = { ev, call, t: ev.params.startMs };
  const { starts, ends } = ev.gridWindows(ms);
  const steps = starts.length;
  const counts = new Float64Array(steps);
  // every window starts and ends no earlier than the one before (no `@`): edges only move forward
  let forwardOnly = true;
  for (let k = 1; k < steps; k++) if (ends[k] < ends[k - 1] || starts[k] < starts[k - 1]) forwardOnly = false;
  return {
    labels: series.map((s) => s.labels),
    dropName: true,
    steps,
    counts,
    fill(r, values, present, base) {
      ev.checkDeadline();
      const s: PreparedSeries = series[r];
      const p = ev.pointsOf(s);
      const resets = resetCounts(s);
      if (rateKind !== undefined && forwardOnly) {
        const any = rateRow(p.ts, p.vs, resets, starts, ends, rateKind, { values, present, base, counts });
        if (any && checkCounter) warnPossibleNonCounter(ctx, s.labels, call.args[0]);
        return;
      }
      let from = 0;
      let to = 0;
      let any = false;
      for (let k = 0; k < steps; k++) {
        present[base + k] = 0;
        const forward = k > 0 && ends[k] >= ends[k - 1] && starts[k] >= starts[k - 1];
        from = forward ? seekAfter(p.ts, from, starts[k]) : searchAfter(p.ts, starts[k], 0);
        to = forward ? seekAfter(p.ts, Math.max(from, to), ends[k]) : searchAfter(p.ts, ends[k], from);
        if (to <= from) continue;
        counts[k] += to - from;
        const v =
          rateKind === undefined
            ? fn(p.ts, p.vs, from, to, resets[to - 1] - resets[from], starts[k], ends[k])
            : extrapolatedRateIn(
                p.ts,
                p.vs,
                from,
                to,
                starts[k],
                ends[k],
                rateKind !== 'delta',
                rateKind === 'rate',
                rateKind !== 'delta' && resets[to - 1] > resets[from],
              );
        if (v === undefined) continue;
        values[base + k] = v;
        present[base + k] = 1;
        any = true;
      }
      // the step-by-step path notes this for any series with a value at some step
      if (any && checkCounter) warnPossibleNonCounter(ctx, s.labels, call.args[0]);
    },
  };
}

/**
 * The rows of an aggregation's argument: already computed (memo), or a source to stream when
 * the argument is a selector or a range function over one that nothing else has asked for.
 */
function innerRows(ev: Evaluator, e: Expr): GridRows | RowSource | undefined {
  if (ev.gridMemo.has(e)) return ev.gridMemo.get(e) ?? undefined;
  if (e.kind === 'vectorSelector') {
    const rollups = ev.rollups.get(e);
    if (rollups) return rollupSelectorSource(ev, e, rollups);
    return fits(ev, ev.preparedSeries(e).length) ? selectorSource(ev, e) : undefined;
  }
  if (e.kind === 'call' && e.func !== 'histogram_quantile') return rangeCallSource(ev, e);
  return gridRows(ev, e);
}

function aggregateRows(ev: Evaluator, e: AggregateExpr): GridRows | undefined {
  if (!BATCHED_AGGREGATIONS.has(e.op) || e.param) return undefined;
  const inner = innerRows(ev, unwrap(e.expr));
  // an inner aggregation hands out its groups in per-step order, not row order
  if (!inner || ('first' in inner && inner.first)) return undefined;
  const { steps } = inner;
  const without = new Set([...e.grouping, METRIC_NAME]);
  const groupIds = new Map<string, number>();
  const labels: Labels[] = [];
  const groupOf = inner.labels.map((l) => {
    // A name already marked for removal takes no part in grouping.
    const input = inner.dropName ? withoutName(l) : l;
    const key = e.without ? keyWithout(input, without) : keyOn(input, e.grouping);
    let g = groupIds.get(key);
    if (g === undefined) {
      groupIds.set(key, (g = labels.length));
      labels.push(e.without ? dropLabels(input, without) : pickLabels(input, e.grouping));
    }
    return g;
  });
  const n = labels.length * steps;
  const acc: Fold = {
    values: new Float64Array(n),
    comp: new Float64Array(n),
    counts: new Float64Array(n),
    present: new Uint8Array(n),
    first: new Int32Array(n),
    overflowed: new Map(),
  };
  const fold = FOLDS[e.op as BatchedOp];
  // Row by row in input order, so every group folds its members in the order the step-by-step
  // path would (compensated sums depend on it).
  if ('fill' in inner) {
    const rowValues = new Float64Array(steps);
    const rowPresent = new Uint8Array(steps);
    for (let r = 0; r < inner.labels.length; r++) {
      inner.fill(r, rowValues, rowPresent, 0, undefined);
      fold(acc, rowValues, rowPresent, 0, groupOf[r] * steps, steps, r);
    }
  } else {
    for (let r = 0; r < inner.labels.length; r++) {
      ev.checkDeadline();
      fold(acc, inner.values, inner.present, r * steps, groupOf[r] * steps, steps, r);
    }
  }
  const { values, comp, counts, present, first, overflowed } = acc;
  for (let at = 0; at < n; at++) {
    if (!present[at]) continue;
    if (e.op === 'sum') {
      if (Number.isFinite(values[at])) values[at] += comp[at];
    } else if (e.op === 'avg') {
      // MeanAccumulator.value() for a mean that never overflowed
      const m = overflowed.get(at);
      values[at] = m
        ? m.value()
        : Number.isFinite(values[at])
          ? values[at] / counts[at] + comp[at] / counts[at]
          : values[at] / counts[at];
    }
  }
  return { labels, dropName: false, steps, values, present, first, counts: inner.counts };
}

type BatchedOp = 'sum' | 'avg' | 'min' | 'max' | 'count' | 'group';

/** Per group and step: the running value, its compensation and member count (avg). */
interface Fold {
  values: Float64Array;
  comp: Float64Array;
  counts: Float64Array;
  present: Uint8Array;
  first: Int32Array;
  /** avg cells whose compensated sum overflowed: an incremental mean from there on. */
  overflowed: Map<number, MeanAccumulator>;
}

/** Folds one inner row (cells from..from+steps) into its group's cells (at..at+steps). */
type FoldRow = (
  f: Fold,
  inValues: Float64Array,
  inPresent: Uint8Array,
  from: number,
  at: number,
  steps: number,
  row: number,
) => void;

/** kahanInc(v, values[at], comp[at]) in place, without the tuple. */
function kahanAt(values: Float64Array, comp: Float64Array, at: number, v: number): void {
  const sum = values[at];
  const t = sum + v;
  if (!Number.isFinite(t)) {
    values[at] = t;
    comp[at] = 0;
  } else if (Math.abs(sum) >= Math.abs(v)) {
    values[at] = t;
    comp[at] += sum - t + v;
  } else {
    values[at] = t;
    comp[at] += v - t + sum;
  }
}

/**
 * Marks cell `cell` present, noting the row that made its group appear first; whether it was
 * already present. Inlined into each fold's loop below.
 */
function enter(f: Fold, cell: number, row: number): boolean {
  if (f.present[cell] === 1) return true;
  f.present[cell] = 1;
  f.first[cell] = row;
  return false;
}

// One loop per operation rather than one shared loop calling a per-cell callback: the callback
// site sees six functions and is not inlined, which measured as most of the fold's time.
const FOLDS: Record<BatchedOp, FoldRow> = {
  // cells start at 0 with no compensation, as the step-by-step path's first kahanInc
  sum: (f, inValues, inPresent, from, at, steps, row) => {
    const { values, comp } = f;
    for (let k = 0; k < steps; k++) {
      if (!inPresent[from + k]) continue;
      enter(f, at + k, row);
      kahanAt(values, comp, at + k, inValues[from + k]);
    }
  },
  avg: (f, inValues, inPresent, from, at, steps, row) => {
    const { values, comp, counts, overflowed } = f;
    for (let k = 0; k < steps; k++) {
      if (!inPresent[from + k]) continue;
      const cell = at + k;
      const v = inValues[from + k];
      enter(f, cell, row);
      const n = ++counts[cell];
      if (n === 1 || Number.isFinite(values[cell] + v)) {
        if (overflowed.size === 0 || !overflowed.has(cell)) {
          kahanAt(values, comp, cell, v);
          continue;
        }
      }
      const m = overflowed.get(cell);
      if (m) m.add(v);
      else {
        const resumed = MeanAccumulator.resume(n - 1, values[cell], comp[cell]);
        resumed.add(v);
        overflowed.set(cell, resumed);
      }
    }
  },
  min: (f, inValues, inPresent, from, at, steps, row) => {
    const { values } = f;
    for (let k = 0; k < steps; k++) {
      if (!inPresent[from + k]) continue;
      const cell = at + k;
      const v = inValues[from + k];
      if (!enter(f, cell, row) || v < values[cell] || Number.isNaN(values[cell])) values[cell] = v;
    }
  },
  max: (f, inValues, inPresent, from, at, steps, row) => {
    const { values } = f;
    for (let k = 0; k < steps; k++) {
      if (!inPresent[from + k]) continue;
      const cell = at + k;
      const v = inValues[from + k];
      if (!enter(f, cell, row) || v > values[cell] || Number.isNaN(values[cell])) values[cell] = v;
    }
  },
  count: (f, _inValues, inPresent, from, at, steps, row) => {
    const { values } = f;
    for (let k = 0; k < steps; k++) {
      if (!inPresent[from + k]) continue;
      enter(f, at + k, row);
      values[at + k]++;
    }
  },
  group: (f, _inValues, inPresent, from, at, steps, row) => {
    const { values } = f;
    for (let k = 0; k < steps; k++) {
      if (!inPresent[from + k]) continue;
      enter(f, at + k, row);
      values[at + k] = 1;
    }
  },
};

/** The instant vector at step k, in the order the step-by-step path produces. */
function samplesAt(ev: Evaluator, rows: GridRows, k: number): Sample[] {
  if (rows.counts) ev.countSamples(rows.counts[k]);
  const { steps } = rows;
  const order: number[] = [];
  for (let r = 0; r < rows.labels.length; r++) if (rows.present[r * steps + k]) order.push(r);
  // groups come out in the order their first member appears in the input at this step
  if (rows.first) order.sort((a, b) => rows.first![a * steps + k] - rows.first![b * steps + k]);
  const out: Sample[] = new Array<Sample>(order.length);
  for (let j = 0; j < order.length; j++) {
    const r = order[j];
    const at = r * steps + k;
    const s: Sample = rows.ts
      ? { labels: rows.labels[r], value: rows.values[at], ts: rows.ts[at] }
      : { labels: rows.labels[r], value: rows.values[at] };
    if (rows.dropName) s.dropName = true;
    out[j] = s;
  }
  return out;
}

function unwrap(e: Expr): Expr {
  return e.kind === 'paren' ? unwrap(e.expr) : e;
}
