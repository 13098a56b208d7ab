/**
 * Native histogram samples in rule unit tests, as far as the PromQL engine does not go: input
 * series written as `{{schema:1 sum:3 count:2 buckets:[2]}}`, `{{…}}xN` and `{{a}}+{{b}}xN`
 * are kept here, and a promql_expr_test that is a bare selector over them returns the latest
 * histogram in the lookback window. Histograms are compared by their canonical text, the way
 * promtool compares TestExpression() strings. Anything else over histogram data is reported
 * as unsupported rather than answered wrongly.
 */

export interface NativeHistogram {
  schema: number;
  count: number;
  sum: number;
  zBucket: number;
  zBucketW: number;
  offset: number;
  buckets: number[];
  nOffset: number;
  nBuckets: number[];
  customValues: number[];
  hint: '' | 'reset' | 'not_reset' | 'gauge';
}

function emptyHistogram(): NativeHistogram {
  return {
    schema: 0,
    count: 0,
    sum: 0,
    zBucket: 0,
    zBucketW: 0,
    offset: 0,
    buckets: [],
    nOffset: 0,
    nBuckets: [],
    customValues: [],
    hint: '',
  };
}

export function parseHistogramLiteral(text: string): NativeHistogram {
  const body = text.trim().replace(/^\{\{/, '').replace(/\}\}$/, '');
  const h = emptyHistogram();
  const re = /([a-z_]+):\s*(\[[^\]]*\]|\S+)/g;
  let m: RegExpExecArray | null;
  const list = (v: string): number[] => v.replace(/[[\]]/g, '').trim().split(/\s+/).filter(Boolean).map(Number);
  while ((m = re.exec(body)) !== null) {
    const [, key, value] = m;
    switch (key) {
      case 'schema':
        h.schema = Number(value);
        break;
      case 'count':
        h.count = Number(value);
        break;
      case 'sum':
        h.sum = Number(value);
        break;
      case 'z_bucket':
        h.zBucket = Number(value);
        break;
      case 'z_bucket_w':
        h.zBucketW = Number(value);
        break;
      case 'offset':
        h.offset = Number(value);
        break;
      case 'n_offset':
        h.nOffset = Number(value);
        break;
      case 'buckets':
        h.buckets = list(value);
        break;
      case 'n_buckets':
        h.nBuckets = list(value);
        break;
      case 'custom_values':
        h.customValues = list(value);
        break;
      case 'counter_reset_hint':
        h.hint = value === 'unknown' ? '' : (value as NativeHistogram['hint']);
        break;
      default:
        throw new Error(`unknown histogram field ${key}`);
    }
  }
  return h;
}

function addLists(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => (a[i] ?? 0) + (b[i] ?? 0));
}

function add(a: NativeHistogram, b: NativeHistogram): NativeHistogram {
  return {
    ...a,
    count: a.count + b.count,
    sum: a.sum + b.sum,
    zBucket: a.zBucket + b.zBucket,
    buckets: addLists(a.buckets, b.buckets),
    nBuckets: addLists(a.nBuckets, b.nBuckets),
  };
}

/** Expands one token of an input series: `{{…}}`, `{{…}}xN`, `{{a}}+{{b}}xN`. */
export function expandHistogramToken(tok: string): NativeHistogram[] {
  const inc = /^(\{\{.*?\}\})([+-])(\{\{.*?\}\})x(\d+)$/.exec(tok);
  if (inc) {
    const base = parseHistogramLiteral(inc[1]);
    const step = parseHistogramLiteral(inc[3]);
    if (inc[2] === '-') {
      step.count = -step.count;
      step.sum = -step.sum;
      step.zBucket = -step.zBucket;
      step.buckets = step.buckets.map((x) => -x);
      step.nBuckets = step.nBuckets.map((x) => -x);
    }
    const out = [base];
    for (let i = 1; i <= Number(inc[4]); i++) out.push(add(out[i - 1], step));
    return out;
  }
  const rep = /^(\{\{.*\}\})x(\d+)$/.exec(tok);
  if (rep) {
    const h = parseHistogramLiteral(rep[1]);
    return Array.from({ length: Number(rep[2]) + 1 }, () => ({ ...h }));
  }
  return [parseHistogramLiteral(tok)];
}

/** TestExpression()-like canonical text; zero fields are left out. */
export function histogramText(h: NativeHistogram): string {
  const parts: string[] = [];
  const list = (xs: number[]): string => `[${xs.join(' ')}]`;
  if (h.schema !== 0) parts.push(`schema:${h.schema}`);
  if (h.count !== 0) parts.push(`count:${h.count}`);
  if (h.sum !== 0) parts.push(`sum:${h.sum}`);
  if (h.zBucket !== 0) parts.push(`z_bucket:${h.zBucket}`);
  if (h.zBucketW !== 0) parts.push(`z_bucket_w:${h.zBucketW}`);
  if (h.hint) parts.push(`counter_reset_hint:${h.hint}`);
  if (h.offset !== 0) parts.push(`offset:${h.offset}`);
  if (h.buckets.length) parts.push(`buckets:${list(h.buckets)}`);
  if (h.nOffset !== 0) parts.push(`n_offset:${h.nOffset}`);
  if (h.nBuckets.length) parts.push(`n_buckets:${list(h.nBuckets)}`);
  if (h.customValues.length) parts.push(`custom_values:${list(h.customValues)}`);
  return `{{${parts.join(' ')}}}`;
}

/**
 * Storage keeps a chunk per series; the first sample of a chunk reads back with an unknown
 * counter-reset hint and later ones as `not_reset` (or `reset` where the count went down).
 */
export function withReadBackHints(points: NativeHistogram[]): NativeHistogram[] {
  return points.map((h, i) => {
    if (i === 0) return { ...h, hint: h.hint === 'gauge' ? 'gauge' : '' };
    if (h.hint === 'gauge') return h;
    return { ...h, hint: h.count < points[i - 1].count ? 'reset' : 'not_reset' };
  });
}
