/**
 * Function calls: argument evaluation and dispatch. Range-vector functions live in
 * range-functions.ts, label manipulation in label-functions.ts, histogram_quantile in its own file.
 */
import type { Labels } from '@arcwatch/contracts';
import type { Call, Expr } from './ast';
import { resetCounts, type Evaluator } from './evaluator';
import { executionError } from './errors';
import { FUNCTIONS } from './function-table';
import { histogramQuantile } from './histogram-quantile';
import { absent, labelJoin, labelReplace, sortByLabel } from './label-functions';
import { INDEXED_RANGE_FUNCTIONS, RANGE_FUNCTIONS, type RangeWindow } from './range-functions';
import { METRIC_NAME, type RangeSeries, type Sample, type Value } from './values';

export interface CallContext {
  ev: Evaluator;
  call: Call;
  t: number;
}

const MATH: Record<string, (v: number) => number> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  exp: Math.exp,
  sqrt: Math.sqrt,
  ln: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  asinh: Math.asinh,
  acosh: Math.acosh,
  atanh: Math.atanh,
  deg: (v) => (v * 180) / Math.PI,
  rad: (v) => (v * Math.PI) / 180,
  sgn: (v) => (Number.isNaN(v) ? NaN : v > 0 ? 1 : v < 0 ? -1 : v),
};

const DATE: Record<string, (d: Date) => number> = {
  day_of_month: (d) => d.getUTCDate(),
  day_of_week: (d) => d.getUTCDay(),
  day_of_year: (d) =>
    Math.floor(
      (Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000,
    ) + 1,
  days_in_month: (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate(),
  hour: (d) => d.getUTCHours(),
  minute: (d) => d.getUTCMinutes(),
  month: (d) => d.getUTCMonth() + 1,
  year: (d) => d.getUTCFullYear(),
};

const SORTS = new Set(['sort', 'sort_desc', 'sort_by_label', 'sort_by_label_desc']);

function mapValues(samples: Sample[], f: (v: number) => number): Value {
  return { type: 'vector', samples: samples.map((s) => ({ labels: s.labels, value: f(s.value), dropName: true })) };
}

/** The selector under parentheses, if the argument is one (timestamp() and absent() look through). */
function unwrap(e: Expr): Expr {
  return e.kind === 'paren' ? unwrap(e.expr) : e;
}

export function evalCall(ev: Evaluator, call: Call, t: number): Value {
  const ctx: CallContext = { ev, call, t };
  const name = call.func;
  const sig = FUNCTIONS[name];
  if (sig?.nativeHistogram) {
    // Only native histograms feed these; float series give an empty result, as in Prometheus.
    for (const a of call.args) if (a.kind !== 'string') ev.eval(a, t);
    return { type: 'vector', samples: [] };
  }
  if (SORTS.has(name) && ev.params.stepMs > 0) {
    ev.notes.warn('sort is ineffective for range queries since results are always ordered by labels', call.pos);
  }
  const range = RANGE_FUNCTIONS[name];
  if (range) return evalRangeFunction(ctx, range.compute, range.keepName ?? false);

  const math = MATH[name];
  if (math) return mapValues(ev.evalVector(call.args[0], t), math);
  const date = DATE[name];
  if (date) {
    const input: Sample[] = call.args.length ? ev.evalVector(call.args[0], t) : [{ labels: {}, value: t / 1000 }];
    return {
      type: 'vector',
      samples: input
        .filter((s) => Number.isFinite(s.value))
        .map((s) => ({ labels: s.labels, value: date(new Date(Math.trunc(s.value) * 1000)), dropName: true })),
    };
  }
  switch (name) {
    case 'time':
      return { type: 'scalar', value: t / 1000 };
    case 'pi':
      return { type: 'scalar', value: Math.PI };
    case 'step':
      return { type: 'scalar', value: ev.params.stepMs / 1000 };
    case 'range':
      return { type: 'scalar', value: (ev.params.endMs - ev.params.startMs) / 1000 };
    case 'start':
      return { type: 'scalar', value: ev.params.startMs / 1000 };
    case 'end':
      return { type: 'scalar', value: ev.params.endMs / 1000 };
    case 'vector':
      return { type: 'vector', samples: [{ labels: {}, value: ev.evalScalar(call.args[0], t) }] };
    case 'scalar': {
      const v = ev.evalVector(call.args[0], t);
      return { type: 'scalar', value: v.length === 1 ? v[0].value : NaN };
    }
    case 'timestamp': {
      const arg = unwrap(call.args[0]);
      const samples = ev.evalVector(arg, t);
      const fromSelector = arg.kind === 'vectorSelector';
      return {
        type: 'vector',
        samples: samples.map((s) => ({
          labels: s.labels,
          value: (fromSelector && s.ts !== undefined ? s.ts : t) / 1000,
          dropName: true,
        })),
      };
    }
    case 'clamp':
    case 'clamp_min':
    case 'clamp_max': {
      const samples = ev.evalVector(call.args[0], t);
      const lo = name === 'clamp_max' ? -Infinity : ev.evalScalar(call.args[1], t);
      const hi =
        name === 'clamp'
          ? ev.evalScalar(call.args[2], t)
          : name === 'clamp_max'
            ? ev.evalScalar(call.args[1], t)
            : Infinity;
      if (name === 'clamp' && hi < lo) return { type: 'vector', samples: [] };
      return mapValues(samples, (v) => Math.max(lo, Math.min(hi, v)));
    }
    case 'round': {
      const samples = ev.evalVector(call.args[0], t);
      const toNearest = call.args.length > 1 ? ev.evalScalar(call.args[1], t) : 1;
      const inverse = 1 / toNearest;
      return mapValues(samples, (v) => Math.floor(v * inverse + 0.5) / inverse);
    }
    case 'sort':
    case 'sort_desc': {
      const desc = name === 'sort_desc';
      const samples = [...ev.evalVector(call.args[0], t)];
      samples.sort((a, b) => {
        if (Number.isNaN(a.value)) return Number.isNaN(b.value) ? 0 : 1;
        if (Number.isNaN(b.value)) return -1;
        return desc ? b.value - a.value : a.value - b.value;
      });
      return { type: 'vector', samples };
    }
    case 'sort_by_label':
    case 'sort_by_label_desc':
      return sortByLabel(ctx, name === 'sort_by_label_desc');
    case 'label_replace':
      return labelReplace(ctx);
    case 'label_join':
      return labelJoin(ctx);
    case 'absent':
      return absent(ctx, ev.evalVector(call.args[0], t).length > 0, unwrap(call.args[0]));
    case 'absent_over_time': {
      const m = ev.eval(call.args[0], t);
      const any = m.type === 'matrix' && m.series.some((s) => s.ts.length > 0);
      return absent(ctx, any, unwrap(call.args[0]));
    }
    case 'histogram_quantile':
      return histogramQuantile(ctx);
    case 'info':
      throw executionError('info() is not supported by this engine');
    default:
      throw executionError(`function ${JSON.stringify(name)} is not supported`);
  }
}

const COUNTER_SUFFIXES = ['_total', '_sum', '_count', '_bucket'];

function evalRangeFunction(
  ctx: CallContext,
  compute: (w: RangeWindow) => number | undefined,
  keepName: boolean,
): Value {
  const { ev, call, t } = ctx;
  const sig = FUNCTIONS[call.func];
  const matrixIdx = sig.args.indexOf('matrix');
  const params: number[] = [];
  call.args.forEach((a, i) => {
    if (i !== matrixIdx) params.push(ev.evalScalar(a, t));
  });
  if (call.func === 'quantile_over_time' && !(params[0] >= 0 && params[0] <= 1)) {
    ev.notes.warn(`quantile value should be between 0 and 1, got ${formatG(params[0])}`, call.args[0].pos);
  }
  const arg = unwrap(call.args[matrixIdx]);
  const checkCounter = call.func === 'rate' || call.func === 'increase';
  const indexed = INDEXED_RANGE_FUNCTIONS[call.func];
  if (indexed && arg.kind === 'matrixSelector' && !arg.extension) {
    const { start, end } = ev.matrixWindow(arg, t);
    const out: Sample[] = [];
    ev.forEachWindow(arg, t, (s, p, from, to) => {
      const r = resetCounts(s);
      const value = indexed(p.ts, p.vs, from, to, r[to - 1] - r[from], start, end);
      if (value === undefined) return;
      if (checkCounter) warnPossibleNonCounter(ctx, s.labels, call.args[matrixIdx]);
      out.push({ labels: s.labels, value, dropName: true });
    });
    return { type: 'vector', samples: out };
  }
  let series: RangeSeries[];
  let window: { start: number; end: number };
  if (arg.kind === 'matrixSelector') {
    if (arg.extension) throw executionError(`${arg.extension} range selectors are not supported by this engine`);
    series = ev.selectMatrix(arg, t);
    window = ev.matrixWindow(arg, t);
  } else if (arg.kind === 'subquery') {
    series = ev.subquery(arg, t);
    window = ev.subqueryWindow(arg, t);
  } else {
    throw executionError(`expected a range vector argument to ${call.func}`);
  }
  const out: Sample[] = [];
  for (const s of series) {
    if (s.ts.length === 0) continue;
    const value = compute({ ts: s.ts, vs: s.vs, rangeStart: window.start, rangeEnd: window.end, t, params });
    if (value === undefined) continue;
    if (checkCounter) warnPossibleNonCounter(ctx, s.labels, call.args[matrixIdx]);
    out.push({ labels: s.labels, value, dropName: keepName ? s.dropName : true });
  }
  return { type: 'vector', samples: out };
}

export function warnPossibleNonCounter(ctx: CallContext, labels: Labels, arg: Expr): void {
  const name = labels[METRIC_NAME];
  if (!name || labels.__type__ !== undefined) return;
  if (COUNTER_SUFFIXES.some((suffix) => name.endsWith(suffix))) return;
  ctx.ev.notes.info(
    `metric might not be a counter, name does not end in _total/_sum/_count/_bucket: ${JSON.stringify(name)}`,
    arg.pos,
  );
}

/** Go's %g for annotation texts. */
export function formatG(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e21)) {
    const [m, e] = v.toExponential().split('e');
    const n = Number(e);
    return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  return String(v);
}
