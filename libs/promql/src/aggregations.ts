/** Aggregation operators (`sum by (...)`, `topk`, `count_values`, ...). */
import type { Labels } from '@arcwatch/contracts';
import type { AggregateExpr } from './ast';
import type { Evaluator } from './evaluator';
import { executionError } from './errors';
import { formatG } from './functions';
import { isValidLabelName } from './label-functions';
import { formatPromValue } from './literals';
import { labelsHash } from './xxhash64';
import { MeanAccumulator, VarianceAccumulator, kahanInc, quantile } from './math-helpers';
import { METRIC_NAME, dropLabels, keyOn, keyWithout, pickLabels, withoutName, type Sample, type Value } from './values';

interface Group {
  labels: Labels;
  samples: Sample[];
}

interface GroupKey {
  key: string;
  labels: Labels;
}

/**
 * Group keys by input label set, per aggregation and name-removal state. Label sets are never
 * mutated and a selected series keeps its object across the steps of a range query, so the key
 * (and the group's label set) is computed once per series instead of once per step.
 */
const groupKeyCache = new WeakMap<AggregateExpr, [WeakMap<Labels, GroupKey>, WeakMap<Labels, GroupKey>]>();

function groupKeyOf(e: AggregateExpr, s: Sample, without: ReadonlySet<string>): GroupKey {
  let caches = groupKeyCache.get(e);
  if (!caches) groupKeyCache.set(e, (caches = [new WeakMap(), new WeakMap()]));
  const cache = caches[s.dropName ? 1 : 0];
  let gk = cache.get(s.labels);
  if (!gk) {
    // A name already marked for removal takes no part in grouping.
    const labels = s.dropName ? withoutName(s.labels) : s.labels;
    gk = e.without
      ? { key: keyWithout(labels, without), labels: dropLabels(labels, without) }
      : { key: keyOn(labels, e.grouping), labels: pickLabels(labels, e.grouping) };
    cache.set(s.labels, gk);
  }
  return gk;
}

/** Splits the input into groups in first-seen order, as Prometheus emits them. */
function groupSamples(e: AggregateExpr, samples: Sample[], extraKey?: (s: Sample) => string): Group[] {
  const without = new Set([...e.grouping, METRIC_NAME]);
  const groups = new Map<string, Group>();
  for (const s of samples) {
    const gk = groupKeyOf(e, s, without);
    const key = extraKey ? gk.key + '\u0002' + extraKey(s) : gk.key;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { labels: extraKey ? { ...gk.labels } : gk.labels, samples: [] }));
    g.samples.push(s);
  }
  return [...groups.values()];
}

function integerParam(v: number): number {
  if (Number.isNaN(v)) throw executionError('Parameter value is NaN');
  if (v >= 2 ** 63 || v < -(2 ** 63)) throw executionError(`Scalar value ${formatG(v)} overflows int64`);
  return Math.trunc(v);
}

/** Orders for topk (largest first) and bottomk (smallest first); NaN always sorts last. */
function byValue(desc: boolean) {
  return (a: Sample, b: Sample): number => {
    if (Number.isNaN(a.value)) return Number.isNaN(b.value) ? 0 : 1;
    if (Number.isNaN(b.value)) return -1;
    return desc ? b.value - a.value : a.value - b.value;
  };
}

function reduce(op: AggregateExpr['op'], samples: Sample[], param: number): number {
  switch (op) {
    case 'sum': {
      let sum = 0;
      let c = 0;
      for (const s of samples) [sum, c] = kahanInc(s.value, sum, c);
      return Number.isFinite(sum) ? sum + c : sum;
    }
    case 'avg': {
      const acc = new MeanAccumulator();
      for (const s of samples) acc.add(s.value);
      return acc.value();
    }
    case 'min':
    case 'max': {
      let v = samples[0].value;
      for (const s of samples) {
        if ((op === 'min' ? s.value < v : s.value > v) || Number.isNaN(v)) v = s.value;
      }
      return v;
    }
    case 'count':
      return samples.length;
    case 'group':
      return 1;
    case 'stddev':
    case 'stdvar': {
      const acc = new VarianceAccumulator();
      for (const s of samples) acc.add(s.value);
      return op === 'stddev' ? Math.sqrt(acc.variance()) : acc.variance();
    }
    case 'quantile':
      return quantile(
        param,
        samples.map((s) => s.value),
      );
    default:
      throw executionError(`unexpected aggregation ${op}`);
  }
}

export function evalAggregate(ev: Evaluator, e: AggregateExpr, t: number): Value {
  if (e.op === 'limit_ratio') return { type: 'vector', samples: limitRatio(ev, e, t) };
  if (e.op === 'count_values') {
    const label = ev.evalString(e.param!, t);
    if (!isValidLabelName(label)) throw executionError(`invalid label name ${JSON.stringify(label)}`);
    const samples = ev.evalVector(e.expr, t);
    const groups = groupSamples(e, samples, (s) => formatPromValue(s.value));
    return {
      type: 'vector',
      samples: groups.map((g) => ({
        labels: { ...g.labels, [label]: formatPromValue(g.samples[0].value) },
        value: g.samples.length,
      })),
    };
  }
  let param = NaN;
  if (e.param) param = ev.evalScalar(e.param, t);
  const samples = ev.evalVector(e.expr, t);
  if (e.op === 'topk' || e.op === 'bottomk' || e.op === 'limitk') {
    const k = integerParam(param);
    if (k < 1) return { type: 'vector', samples: [] };
    const out: Sample[] = [];
    for (const g of groupSamples(e, samples)) {
      const chosen = e.op === 'limitk' ? g.samples : [...g.samples].sort(byValue(e.op === 'topk'));
      out.push(...chosen.slice(0, k));
    }
    return { type: 'vector', samples: out };
  }
  if (e.op === 'quantile' && !(param >= 0 && param <= 1)) {
    ev.notes.warn(`quantile value should be between 0 and 1, got ${formatG(param)}`, e.param!.pos);
  }
  return {
    type: 'vector',
    samples: groupSamples(e, samples).map((g) => ({ labels: g.labels, value: reduce(e.op, g.samples, param) })),
  };
}

const TWO_POW_64 = 2 ** 64;

/**
 * limit_ratio(r, v): a series is kept when its label hash, scaled to [0, 1), lies below r; a
 * negative r keeps the complement, those at or above 1 + r. So `limit_ratio(r, v)` and
 * `limit_ratio(-(1 - r), v)` split v exactly, and a series stays picked from step to step.
 */
function limitRatio(ev: Evaluator, e: AggregateExpr, t: number): Sample[] {
  let r = ev.evalScalar(e.param!, t);
  if (Number.isNaN(r)) throw executionError('Ratio value is NaN');
  if (r < -1 || r > 1) {
    const capped = r < -1 ? -1 : 1;
    ev.notes.warn(
      `ratio value should be between -1 and 1, got ${formatG(r)}, capping to ${formatG(capped)}`,
      e.param!.pos,
    );
    r = capped;
  }
  const samples = ev.evalVector(e.expr, t);
  if (r === 0) return [];
  const out: Sample[] = [];
  for (const g of groupSamples(e, samples)) {
    for (const s of g.samples) {
      const offset = Number(labelsHash(s.labels)) / TWO_POW_64;
      if (r >= 0 ? offset < r : offset >= 1 + r) out.push(s);
    }
  }
  return out;
}
