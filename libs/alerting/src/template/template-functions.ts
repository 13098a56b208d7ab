/**
 * Go's built-in template functions and Prometheus's template functions (humanize*, query,
 * first / label / value, sortByLabel, reReplaceAll, match, title, stripPort, …) with the exact
 * output formats Prometheus produces.
 */
import { formatG, formatValue, goQuote, goTypeName, sprintf } from './go-format';
import { GoStruct, truth, type TemplateFunction } from './go-template.exec';

/** One element of a `query` result: what `first`, `label` and `value` take. */
export class QuerySample extends GoStruct {
  constructor(labels: Record<string, string>, value: number) {
    super('*template.sample', { Labels: labels, Value: value });
  }
  get labels(): Record<string, string> {
    return this.fields.Labels as Record<string, string>;
  }
  get value(): number {
    return this.fields.Value as number;
  }
}

export type TemplateQuery = (expr: string) => Promise<QuerySample[]>;

function toFloat(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') {
    const t = v.trim();
    const n = /^[-+]?(inf|infinity)$/i.test(t)
      ? t.startsWith('-')
        ? -Infinity
        : Infinity
      : /^[-+]?nan$/i.test(t)
        ? NaN
        : Number(t);
    if (t === '' || (Number.isNaN(n) && !/nan/i.test(t)))
      throw new Error(`strconv.ParseFloat: parsing ${goQuote(v)}: invalid syntax`);
    return n;
  }
  throw new Error(`can't convert ${goTypeName(v)} to float`);
}

const g4 = (v: number): string => formatG(v, 4);

export function humanize(i: unknown): string {
  let v = toFloat(i);
  if (v === 0 || !Number.isFinite(v)) return g4(v);
  if (Math.abs(v) >= 1) {
    let prefix = '';
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return g4(v) + prefix;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return g4(v) + prefix;
}

export function humanize1024(i: unknown): string {
  let v = toFloat(i);
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return g4(v);
  let prefix = '';
  for (const p of ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi']) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return g4(v) + prefix;
}

export function humanizeDuration(i: unknown): string {
  let v = toFloat(i);
  if (!Number.isFinite(v)) return g4(v);
  if (v === 0) return `${g4(v)}s`;
  if (Math.abs(v) >= 1) {
    const sign = v < 0 ? '-' : '';
    v = Math.abs(v);
    const d = Math.trunc(v);
    const seconds = d % 60;
    const minutes = Math.trunc(d / 60) % 60;
    const hours = Math.trunc(d / 3600) % 24;
    const days = Math.trunc(d / 86400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${g4(v)}s`;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${g4(v)}${prefix}s`;
}

export function humanizePercentage(i: unknown): string {
  return `${g4(toFloat(i) * 100)}%`;
}

/** Go's time.Time String() in UTC: `2022-01-25 12:36:43 +0000 UTC` (fraction trimmed). */
export function humanizeTimestamp(i: unknown): string {
  const v = toFloat(i);
  if (!Number.isFinite(v)) return g4(v);
  const ms = Math.round(v * 1000);
  const iso = new Date(ms).toISOString();
  const frac = ((ms % 1000) + 1000) % 1000;
  const fracText = frac ? `.${String(frac).padStart(3, '0').replace(/0+$/, '')}` : '';
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fracText} +0000 UTC`;
}

/** url.QueryEscape: space as '+', everything but [A-Za-z0-9-_.~] percent-encoded. */
export function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

function splitHostPort(hostPort: string): { host: string; port: string } | undefined {
  const m = /^\[([^\]]*)\]:([^:]*)$/.exec(hostPort) ?? /^([^:]*):([^:]*)$/.exec(hostPort);
  return m ? { host: m[1], port: m[2] } : undefined;
}

/** Go's RE2 replacement syntax (`${1}`, `$name`) as JavaScript's. */
function jsReplacement(repl: string): string {
  return repl
    .replace(/\$\{(\w+)\}/g, (_, n: string) => (/^\d+$/.test(n) ? `$${n}` : `$<${n}>`))
    .replace(/\$([A-Za-z_]\w*)/g, '$<$1>');
}

function goRegExp(pattern: string, flags = ''): RegExp {
  // RE2's (?P<name>…) is JavaScript's (?<name>…); inline (?i) flags become RegExp flags.
  let p = pattern.replace(/\(\?P</g, '(?<');
  let f = flags;
  const inline = /^\(\?([imsU]+)\)/.exec(p);
  if (inline) {
    p = p.slice(inline[0].length);
    for (const c of inline[1]) if ('ims'.includes(c) && !f.includes(c)) f += c;
  }
  // No 'u' flag: like RE2, a '{' that starts no quantifier is then a literal.
  return new RegExp(p, f);
}

function compare(op: string, a: unknown, b: unknown): boolean {
  const kind = (v: unknown): string => (typeof v === 'bigint' ? 'int' : typeof v === 'number' ? 'float' : typeof v);
  if (kind(a) !== kind(b)) throw new Error('incompatible types for comparison');
  if (!['int', 'float', 'string', 'boolean'].includes(kind(a))) {
    if (op === 'eq' || op === 'ne') throw new Error('invalid type for comparison');
    throw new Error('invalid type for comparison');
  }
  const x = a as number | bigint | string;
  const y = b as number | bigint | string;
  switch (op) {
    case 'eq':
      return x === y;
    case 'ne':
      return x !== y;
    case 'lt':
      return x < y;
    case 'le':
      return x <= y;
    case 'gt':
      return x > y;
    default:
      return x >= y;
  }
}

function goPrint(args: unknown[]): string {
  // fmt.Sprint puts a space between operands when neither is a string.
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

function htmlEscape(s: string): string {
  return s.replace(
    /[&'<>"\0]/g,
    (c) => ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\0': '\uFFFD' })[c] as string,
  );
}

export interface TemplateContext {
  query: TemplateQuery;
  /** Evaluation time in ms (`now`). */
  timeMs: number;
  externalUrl: string;
}

export function templateFunctions(ctx: TemplateContext): Record<string, TemplateFunction> {
  const sampleOf = (s: unknown): QuerySample => {
    if (!(s instanceof QuerySample))
      throw new Error(`wrong type for value; expected *template.sample; got ${goTypeName(s)}`);
    return s;
  };
  const results = (v: unknown): QuerySample[] => {
    if (!Array.isArray(v)) throw new Error(`wrong type for value; expected template.queryResult; got ${goTypeName(v)}`);
    return v as QuerySample[];
  };
  return {
    // Go built-ins.
    and: (...a) => a.find((x) => !truth(x)) ?? a[a.length - 1],
    or: (...a) => a.find((x) => truth(x)) ?? a[a.length - 1],
    not: (a) => !truth(a),
    len: (a) => {
      if (typeof a === 'string') return BigInt(Buffer.byteLength(a));
      if (Array.isArray(a)) return BigInt(a.length);
      if (a && typeof a === 'object' && !(a instanceof GoStruct)) return BigInt(Object.keys(a).length);
      throw new Error(`len of type ${goTypeName(a)}`);
    },
    index: (a, ...keys) => {
      let cur = a;
      for (const k of keys) {
        if (Array.isArray(cur)) cur = cur[Number(k)];
        else if (cur && typeof cur === 'object') cur = (cur as Record<string, unknown>)[String(k)] ?? '';
        else throw new Error(`can't index item of type ${goTypeName(cur)}`);
      }
      return cur;
    },
    print: (...a) => goPrint(a),
    println: (...a) => a.map(formatValue).join(' ') + '\n',
    printf: (fmt, ...a) => sprintf(String(fmt), a),
    urlquery: (...a) => queryEscape(goPrint(a)),
    html: (...a) => htmlEscape(goPrint(a)),
    js: (...a) =>
      goPrint(a).replace(/[\\'"<>&=]/g, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`),
    eq: (a, ...b) => {
      if (b.length === 0) throw new Error('missing argument for comparison');
      return b.some((x) => compare('eq', a, x));
    },
    ne: (a, b) => compare('ne', a, b),
    lt: (a, b) => compare('lt', a, b),
    le: (a, b) => compare('le', a, b),
    gt: (a, b) => compare('gt', a, b),
    ge: (a, b) => compare('ge', a, b),
    // Prometheus.
    query: async (q) => ctx.query(String(q)),
    first: (v) => {
      const r = results(v);
      if (r.length === 0) throw new Error('first() called on vector with no elements');
      return r[0];
    },
    label: (name, s) => sampleOf(s).labels[String(name)] ?? '',
    value: (s) => sampleOf(s).value,
    strvalue: (s) => sampleOf(s).labels.__value__ ?? '',
    args: (...a) => Object.fromEntries(a.map((x, i) => [`arg${i}`, x])),
    reReplaceAll: (pattern, repl, text) =>
      String(text).replace(goRegExp(String(pattern), 'g'), jsReplacement(String(repl))),
    safeHtml: (t) => String(t),
    match: (pattern, text) => goRegExp(String(pattern)).test(String(text)),
    title: (t) =>
      String(t).replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_, pre: string, c: string) => pre + c.toUpperCase()),
    toUpper: (t) => String(t).toUpperCase(),
    toLower: (t) => String(t).toLowerCase(),
    graphLink: (e) => `/graph?g0.expr=${queryEscape(String(e))}&g0.tab=0`,
    tableLink: (e) => `/graph?g0.expr=${queryEscape(String(e))}&g0.tab=1`,
    sortByLabel: (name, v) => {
      const r = [...results(v)];
      return r.sort((a, b) => {
        const x = a.labels[String(name)] ?? '';
        const y = b.labels[String(name)] ?? '';
        return x < y ? -1 : x > y ? 1 : 0;
      });
    },
    stripPort: (hp) => splitHostPort(String(hp))?.host ?? String(hp),
    stripDomain: (hp) => {
      const s = String(hp);
      const split = splitHostPort(s);
      const host = split ? split.host : s;
      if (/^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':')) return s;
      const short = host.split('.')[0];
      return split && split.port !== '' ? `${short}:${split.port}` : short;
    },
    humanize,
    humanize1024,
    humanizeDuration,
    humanizePercentage,
    humanizeTimestamp,
    now: () => ctx.timeMs / 1000,
    pathPrefix: () => {
      try {
        return new URL(ctx.externalUrl).pathname.replace(/\/$/, '');
      } catch {
        return '';
      }
    },
    externalURL: () => ctx.externalUrl,
    parseDuration: (d) => {
      const m = /^(-)?(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(String(d));
      if (!m || String(d).replace('-', '') === '')
        throw new Error(`not a valid duration string: ${goQuote(String(d))}`);
      const units = [365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001];
      const s = units.reduce((acc, u, i) => acc + Number(m[i + 2] ?? 0) * u, 0);
      return m[1] ? -s : s;
    },
    urlQueryEscape: (s) => queryEscape(String(s)),
    toTime: (v) => humanizeTimestamp(v),
  };
}

export const TEMPLATE_FUNCTION_NAMES: ReadonlySet<string> = new Set(
  Object.keys(templateFunctions({ query: async () => [], timeMs: 0, externalUrl: '' })).concat([
    'tmpl',
    'call',
    'slice',
    'toDuration',
  ]),
);
