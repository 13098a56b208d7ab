/**
 * Go's number and value formatting as Prometheus templates print it: `%v` of a float64 is the
 * shortest `%g` (exponent from 1e+06 on), `%.4g` trims trailing zeros, maps print as
 * `map[a:b c:d]` with sorted keys. Alert annotations are compared byte for byte by rule unit
 * tests, so these must match Go exactly.
 */

/** The exact decimal digits of a finite double and the exponent of its first digit. */
function exactDecimal(v: number): { digits: string; exp: number } {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Math.abs(v));
  const bits = buf.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  let e2: number;
  if (biased === 0) e2 = -1074;
  else {
    mant |= 1n << 52n;
    e2 = biased - 1075;
  }
  let text: string;
  let point: number;
  if (e2 >= 0) {
    text = (mant << BigInt(e2)).toString();
    point = text.length;
  } else {
    text = (mant * 5n ** BigInt(-e2)).toString();
    point = text.length + e2;
  }
  const lead = /^0*/.exec(text)![0].length;
  return { digits: text.slice(lead).replace(/0+$/, '') || '0', exp: point - lead - 1 };
}

/**
 * Rounds to `n` significant digits as Go's strconv does: from the exact binary value, ties to
 * even (JavaScript's toExponential / toFixed round exact ties up: 1.5625 → 1.563, Go says 1.562).
 */
function roundDigits(d: { digits: string; exp: number }, n: number): { digits: string; exp: number } {
  if (n <= 0) {
    // Nothing kept: rounds to 0 or to one unit at the first position.
    const up = d.digits[0] > '5' || (d.digits[0] === '5' && d.digits.length > 1);
    return up ? { digits: '1', exp: d.exp + 1 } : { digits: '0', exp: d.exp };
  }
  if (d.digits.length <= n) return d;
  const keep = d.digits.slice(0, n);
  const rest = d.digits.slice(n);
  const half = rest[0] === '5' && /^5$/.test(rest.replace(/0+$/, ''));
  const up = rest[0] > '5' || (rest[0] === '5' && !half) || (half && Number(keep[keep.length - 1]) % 2 === 1);
  if (!up) return { digits: keep.replace(/0+$/, '') || '0', exp: d.exp };
  const bumped = (BigInt(keep) + 1n).toString();
  if (bumped.length > keep.length) return { digits: bumped.slice(0, n).replace(/0+$/, '') || '0', exp: d.exp + 1 };
  return { digits: bumped.replace(/0+$/, '') || '0', exp: d.exp };
}

function splitDigits(v: number, prec: number): { digits: string; exp: number } {
  if (prec < 0) {
    // Shortest round-trip digits: JavaScript and Go agree on these.
    const [mant, e] = Math.abs(v).toExponential().split('e');
    return { digits: mant.replace('.', '').replace(/0+$/, '') || '0', exp: Number(e) };
  }
  return roundDigits(exactDecimal(v), Math.max(prec, 1));
}

function expSuffix(exp: number): string {
  const a = Math.abs(exp);
  return `e${exp < 0 ? '-' : '+'}${a < 10 ? '0' : ''}${a}`;
}

function special(v: number, plus = false): string | undefined {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return plus ? '+Inf' : '+Inf';
  if (v === -Infinity) return '-Inf';
  return undefined;
}

/** Go's `%g` (prec -1 = shortest, as `%v`), `%e` and `%f` for float64. */
export function formatG(v: number, prec = -1): string {
  const sp = special(v);
  if (sp) return sp;
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const sign = v < 0 ? '-' : '';
  const { digits, exp } = splitDigits(v, prec === 0 ? 1 : prec);
  const nd = digits.length;
  let eprec = prec < 0 ? 6 : prec === 0 ? 1 : prec;
  if (prec >= 0 && eprec > nd && nd >= exp + 1) eprec = nd;
  if (exp < -4 || exp >= eprec) {
    const mant = nd > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return sign + mant + expSuffix(exp);
  }
  if (exp >= 0) {
    const intPart = digits.length > exp + 1 ? digits.slice(0, exp + 1) : digits.padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    return sign + intPart + (frac ? `.${frac}` : '');
  }
  return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
}

export function formatE(v: number, prec = 6): string {
  const sp = special(v);
  if (sp) return sp;
  if (v === 0) return (Object.is(v, -0) ? '-' : '') + '0' + (prec > 0 ? '.' + '0'.repeat(prec) : '') + 'e+00';
  const { digits, exp } = roundDigits(exactDecimal(v), prec + 1);
  const padded = digits.padEnd(prec + 1, '0');
  return (v < 0 ? '-' : '') + padded[0] + (prec > 0 ? '.' + padded.slice(1) : '') + expSuffix(exp);
}

export function formatF(v: number, prec = 6): string {
  const sp = special(v);
  if (sp) return sp;
  const sign = v < 0 || Object.is(v, -0) ? '-' : '';
  if (v === 0) return sign + '0' + (prec > 0 ? '.' + '0'.repeat(prec) : '');
  const exact = exactDecimal(v);
  // Significant digits kept: those before the point plus `prec` after it.
  const r = roundDigits(exact, exact.exp + 1 + prec);
  const digits = r.digits === '0' ? '' : r.digits;
  const intLen = r.exp + 1;
  let intPart: string;
  let frac: string;
  if (intLen <= 0) {
    intPart = '0';
    frac = ('0'.repeat(-intLen) + digits).padEnd(prec, '0').slice(0, prec);
  } else {
    intPart = digits.slice(0, intLen).padEnd(intLen, '0');
    frac = digits.slice(intLen).padEnd(prec, '0').slice(0, prec);
  }
  return sign + intPart + (prec > 0 ? '.' + frac : '');
}

/** Go's `%v` / `fmt.Sprint` of a template value. */
export function formatValue(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'number') return formatG(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map(formatValue).join(' ')}]`;
  if (v instanceof Map) {
    const keys = [...v.keys()].map(String).sort();
    return `map[${keys.map((k) => `${k}:${formatValue(v.get(k))}`).join(' ')}]`;
  }
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.goString === 'function') return String((o.goString as () => string)());
    const keys = Object.keys(o).sort();
    return `map[${keys.map((k) => `${k}:${formatValue(o[k])}`).join(' ')}]`;
  }
  return String(v);
}

/** Go's strconv.Quote for the printable subset templates produce. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + '"';
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

function pad(s: string, width: number | undefined, left: boolean, zero: boolean): string {
  if (width === undefined || s.length >= width) return s;
  if (left) return s.padEnd(width, ' ');
  if (zero) {
    const neg = s.startsWith('-') || s.startsWith('+');
    const body = neg ? s.slice(1) : s;
    return (neg ? s[0] : '') + body.padStart(width - (neg ? 1 : 0), '0');
  }
  return s.padStart(width, ' ');
}

/** Go's fmt.Sprintf for the verbs rule templates use: %s %v %d %f %e %g %q %x %t %%. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let ai = 0;
  const re = /%([-+# 0]*)(\d+)?(?:\.(\d*))?([a-zA-Z%])/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(format)) !== null) {
    out += format.slice(last, m.index);
    last = re.lastIndex;
    const [, flags, widthText, precText, verb] = m;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (ai >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[ai++];
    const width = widthText === undefined ? undefined : Number(widthText);
    const prec = precText === undefined ? undefined : precText === '' ? 0 : Number(precText);
    const left = flags.includes('-');
    const zero = flags.includes('0') && !left;
    const plus = flags.includes('+');
    const num = toNumber(arg);
    const float = typeof arg === 'number' ? arg : undefined;
    let s: string;
    switch (verb) {
      case 'v':
        s = float !== undefined ? formatG(float, prec ?? -1) : formatValue(arg);
        break;
      case 's':
        s = formatValue(arg);
        if (prec !== undefined) s = s.slice(0, prec);
        break;
      case 'q':
        s = goQuote(formatValue(arg));
        break;
      case 'd':
        s = typeof arg === 'bigint' ? arg.toString() : `%!d(${goTypeName(arg)}=${formatValue(arg)})`;
        break;
      case 'f':
      case 'F':
        s = float !== undefined ? formatF(float, prec ?? 6) : `%!${verb}(${goTypeName(arg)}=${formatValue(arg)})`;
        break;
      case 'e':
        s = float !== undefined ? formatE(float, prec ?? 6) : `%!e(${goTypeName(arg)}=${formatValue(arg)})`;
        break;
      case 'g':
        s = float !== undefined ? formatG(float, prec ?? -1) : `%!g(${goTypeName(arg)}=${formatValue(arg)})`;
        break;
      case 'x':
        s = typeof arg === 'bigint' ? arg.toString(16) : Buffer.from(formatValue(arg)).toString('hex');
        break;
      case 't':
        s = typeof arg === 'boolean' ? String(arg) : `%!t(${goTypeName(arg)}=${formatValue(arg)})`;
        break;
      default:
        s = `%!${verb}(${goTypeName(arg)}=${formatValue(arg)})`;
    }
    if (plus && num !== undefined && num >= 0 && 'vdfeg'.includes(verb)) s = '+' + s;
    out += pad(s, width, left, zero);
  }
  out += format.slice(last);
  if (ai < args.length)
    out += `%!(EXTRA ${args
      .slice(ai)
      .map((a) => `${goTypeName(a)}=${formatValue(a)}`)
      .join(', ')})`;
  return out;
}

export function goTypeName(v: unknown): string {
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (v === undefined || v === null) return '<nil>';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]string';
}
