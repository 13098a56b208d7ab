/** Binary operators: arithmetic, comparison (with `bool`), set operators and vector matching. */
import type { Labels } from '@arcwatch/contracts';
import { isComparisonOp, isSetOp, type BinaryExpr, type BinaryOp, type VectorMatching } from './ast';
import type { Evaluator } from './evaluator';
import { executionError } from './errors';
import { METRIC_NAME, keyOn, keyWithout, labelsKey, pickLabels, type Sample, type Value } from './values';

/** Go's math.Pow differs from Math.pow for a base of ±1 with NaN or infinite exponents. */
function pow(a: number, b: number): number {
  if (a === 1 || b === 0) return 1;
  if (a === -1 && !Number.isFinite(b) && !Number.isNaN(b)) return 1;
  return Math.pow(a, b);
}

/** Applies op; for comparisons returns the left value and whether the comparison held. */
export function applyOp(op: BinaryOp, l: number, r: number): { value: number; keep: boolean } {
  switch (op) {
    case '+':
      return { value: l + r, keep: true };
    case '-':
      return { value: l - r, keep: true };
    case '*':
      return { value: l * r, keep: true };
    case '/':
      return { value: l / r, keep: true };
    case '%':
      return { value: l % r, keep: true };
    case '^':
      return { value: pow(l, r), keep: true };
    case 'atan2':
      return { value: Math.atan2(l, r), keep: true };
    case '==':
      return { value: l, keep: l === r };
    case '!=':
      return { value: l, keep: l !== r };
    case '>':
      return { value: l, keep: l > r };
    case '<':
      return { value: l, keep: l < r };
    case '>=':
      return { value: l, keep: l >= r };
    case '<=':
      return { value: l, keep: l <= r };
    default:
      throw executionError(`operator ${op} not allowed on scalars`);
  }
}

const dropsName = (e: BinaryExpr) => e.returnBool || !isComparisonOp(e.op);

export function evalBinary(ev: Evaluator, e: BinaryExpr, t: number): Value {
  const lhs = ev.eval(e.lhs, t);
  const rhs = ev.eval(e.rhs, t);
  if (lhs.type === 'scalar' && rhs.type === 'scalar') {
    const { value, keep } = applyOp(e.op, lhs.value, rhs.value);
    return { type: 'scalar', value: isComparisonOp(e.op) ? (keep ? 1 : 0) : value };
  }
  if (lhs.type === 'vector' && rhs.type === 'scalar')
    return { type: 'vector', samples: vectorScalar(e, lhs.samples, rhs.value, false) };
  if (lhs.type === 'scalar' && rhs.type === 'vector')
    return { type: 'vector', samples: vectorScalar(e, rhs.samples, lhs.value, true) };
  if (lhs.type !== 'vector' || rhs.type !== 'vector')
    throw executionError('binary expression must contain only scalar and instant vector types');
  const matching: VectorMatching = e.matching ?? { card: 'one-to-one', on: false, labels: [], include: [] };
  if (isSetOp(e.op)) return { type: 'vector', samples: setOp(e.op, lhs.samples, rhs.samples, matching) };
  return { type: 'vector', samples: vectorVector(e, lhs.samples, rhs.samples, matching) };
}

function vectorScalar(e: BinaryExpr, samples: Sample[], scalar: number, scalarLeft: boolean): Sample[] {
  const out: Sample[] = [];
  for (const s of samples) {
    const [l, r] = scalarLeft ? [scalar, s.value] : [s.value, scalar];
    let { value, keep } = applyOp(e.op, l, r);
    // A comparison filters the vector; the kept value is always the vector's own.
    if (isComparisonOp(e.op)) value = s.value;
    if (e.returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    out.push({ labels: s.labels, value, dropName: dropsName(e) || s.dropName });
  }
  return out;
}

function signature(matching: VectorMatching): (l: Labels) => string {
  if (matching.on) return (l) => keyOn(l, matching.labels);
  const ignored = new Set([...matching.labels, METRIC_NAME]);
  return (l) => keyWithout(l, ignored);
}

function setOp(op: 'and' | 'or' | 'unless', lhs: Sample[], rhs: Sample[], matching: VectorMatching): Sample[] {
  const sig = signature(matching);
  if (op === 'or') {
    const leftSigs = new Set(lhs.map((s) => sig(s.labels)));
    return [...lhs, ...rhs.filter((s) => !leftSigs.has(sig(s.labels)))];
  }
  const rightSigs = new Set(rhs.map((s) => sig(s.labels)));
  return lhs.filter((s) => rightSigs.has(sig(s.labels)) === (op === 'and'));
}

/** Label sets as Prometheus prints them in errors: `{__name__="x", a="b"}`, names sorted. */
function promLabels(labels: Labels): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ')}}`;
}

function matchGroupLabels(labels: Labels, matching: VectorMatching): string {
  if (matching.on) return promLabels(pickLabels(labels, matching.labels));
  const ignored = new Set([...matching.labels, METRIC_NAME]);
  const kept: Labels = {};
  for (const [k, v] of Object.entries(labels)) if (!ignored.has(k)) kept[k] = v;
  return promLabels(kept);
}

function resultLabels(many: Sample, one: Sample | undefined, matching: VectorMatching): Labels {
  let labels: Labels;
  if (matching.card === 'one-to-one') {
    if (matching.on) labels = pickLabels(many.labels, matching.labels);
    else {
      labels = { ...many.labels };
      for (const l of matching.labels) delete labels[l];
    }
  } else {
    labels = { ...many.labels };
  }
  for (const l of matching.include) {
    const v = one?.labels[l];
    if (v !== undefined && v !== '') labels[l] = v;
    else delete labels[l];
  }
  return labels;
}

/**
 * Vector/vector arithmetic and comparisons. With fill modifiers a series that finds no partner
 * is paired with the fill value instead of being dropped; the result labels are then worked
 * out from the series that is present, as if it had matched.
 */
function vectorVector(e: BinaryExpr, lhs: Sample[], rhs: Sample[], matching: VectorMatching): Sample[] {
  if (matching.card === 'many-to-many') throw executionError('many-to-many only allowed for set operators');
  // Nothing can match, so duplicates on either side go unreported, as in Prometheus.
  if ((lhs.length === 0 || rhs.length === 0) && !e.fill) return [];
  const sig = signature(matching);
  // The "one" side must be unique per match group; group_right swaps which side that is.
  const swapped = matching.card === 'one-to-many';
  const [manySide, oneSide] = swapped ? [rhs, lhs] : [lhs, rhs];
  // fill.lhs stands in for a missing left operand, fill.rhs for a missing right one.
  const [fillMany, fillOne] = swapped ? [e.fill?.rhs, e.fill?.lhs] : [e.fill?.lhs, e.fill?.rhs];
  const ones = new Map<string, Sample>();
  for (const s of oneSide) {
    const key = sig(s.labels);
    const prev = ones.get(key);
    if (prev) {
      throw executionError(
        `found duplicate series for the match group ${matchGroupLabels(s.labels, matching)} on the ${swapped ? 'left' : 'right'} hand-side of the operation: [${promLabels(prev.labels)}, ${promLabels(s.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    }
    ones.set(key, s);
  }
  const matchedOnce = new Set<string>();
  const outputKeys = new Set<string>();
  const usedOnes = new Set<string>();
  const out: Sample[] = [];
  const emit = (many: Sample, one: Sample | undefined, manyValue: number, oneValue: number, key: string) => {
    const [l, r] = swapped ? [oneValue, manyValue] : [manyValue, oneValue];
    let { value, keep } = applyOp(e.op, l, r);
    if (e.returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    // Pairs a comparison filters out take no part in the uniqueness checks.
    if (!keep) return;
    const labels = resultLabels(many, one, matching);
    if (matching.card === 'one-to-one') {
      if (matchedOnce.has(key))
        throw executionError(
          'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
        );
      matchedOnce.add(key);
    } else {
      const outKey = key + '\u0003' + labelsKey(labels);
      if (outputKeys.has(outKey))
        throw executionError('multiple matches for labels: grouping labels must ensure unique matches');
      outputKeys.add(outKey);
    }
    out.push({ labels, value, dropName: dropsName(e) || many.dropName });
  };
  for (const s of manySide) {
    const key = sig(s.labels);
    const one = ones.get(key);
    if (one) {
      usedOnes.add(key);
      emit(s, one, s.value, one.value, key);
    } else if (fillOne !== undefined) {
      emit(s, undefined, s.value, fillOne, key);
    }
  }
  if (fillMany !== undefined) {
    // A "one"-side series nobody matched stands in for the missing "many" side.
    for (const [key, one] of ones) if (!usedOnes.has(key)) emit(one, one, fillMany, one.value, key);
  }
  return out;
}
