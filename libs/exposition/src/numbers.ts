/**
 * Number tokens of both formats, read straight from the line without slicing on the common
 * path (short integers), so that a scrape of mostly-integer DCGM values allocates nothing here.
 * Returns `undefined` for a malformed token; NaN is a value, not a failure.
 */

const C_0 = 48;
const C_9 = 57;
const C_PLUS = 43;
const C_MINUS = 45;
const C_DOT = 46;
const C_E = 101;
const C_UPPER_E = 69;

/** Integers of up to 15 digits are exact in a double and can be accumulated digit by digit. */
const EXACT_DIGITS = 15;

/**
 * A float in the shared grammar of both formats: `[+-]` digits with an optional fraction and
 * exponent, or (when `specials`) `Inf`, `Infinity`, `NaN` in any letter case with an optional
 * sign on the infinities. No hex, no underscores, no surrounding blanks.
 */
export function parseNumber(s: string, a: number, b: number, specials = true): number | undefined {
  if (a >= b) return undefined;
  let i = a;
  let c = s.charCodeAt(i);
  let negative = false;
  let signed = false;
  if (c === C_PLUS || c === C_MINUS) {
    negative = c === C_MINUS;
    signed = true;
    if (++i >= b) return undefined;
    c = s.charCodeAt(i);
  }
  if (c >= C_0 && c <= C_9) {
    let v = 0;
    let j = i;
    while (j < b) {
      c = s.charCodeAt(j);
      if (c < C_0 || c > C_9) break;
      v = v * 10 + (c - C_0);
      j++;
    }
    if (j === b) {
      if (j - i <= EXACT_DIGITS) return negative ? -v : v;
      return Number(s.slice(a, b));
    }
  } else if (c !== C_DOT) {
    if (!specials) return undefined;
    const word = s.slice(i, b).toLowerCase();
    if (word === 'inf' || word === 'infinity') return negative ? -Infinity : Infinity;
    if (word === 'nan' && !signed) return NaN;
    return undefined;
  }
  return isDecimal(s, i, b) ? Number(s.slice(a, b)) : undefined;
}

/** digits [. digits] [e [+-] digits] with at least one mantissa digit; `s[i]` is not a sign. */
function isDecimal(s: string, i: number, b: number): boolean {
  let mantissa = 0;
  let c = 0;
  while (i < b && (c = s.charCodeAt(i)) >= C_0 && c <= C_9) {
    i++;
    mantissa++;
  }
  if (i < b && s.charCodeAt(i) === C_DOT) {
    i++;
    while (i < b && (c = s.charCodeAt(i)) >= C_0 && c <= C_9) {
      i++;
      mantissa++;
    }
  }
  if (mantissa === 0) return false;
  if (i === b) return true;
  c = s.charCodeAt(i);
  if (c !== C_E && c !== C_UPPER_E) return false;
  if (++i < b && ((c = s.charCodeAt(i)) === C_PLUS || c === C_MINUS)) i++;
  const expStart = i;
  while (i < b && (c = s.charCodeAt(i)) >= C_0 && c <= C_9) i++;
  return i === b && i > expStart;
}

/** Text 0.0.4 timestamps: a signed integer count of milliseconds. */
export function parseIntegerMs(s: string, a: number, b: number): number | undefined {
  let i = a;
  const negative = i < b && s.charCodeAt(i) === C_MINUS;
  if (i < b && (negative || s.charCodeAt(i) === C_PLUS)) i++;
  if (i >= b) return undefined;
  let v = 0;
  for (let j = i; j < b; j++) {
    const c = s.charCodeAt(j);
    if (c < C_0 || c > C_9) return undefined;
    v = v * 10 + (c - C_0);
  }
  // Today's times have 13 digits; past EXACT_DIGITS the sum may have rounded, Number() does not.
  if (b - i > EXACT_DIGITS) return Number(s.slice(a, b));
  return negative ? -v : v;
}

/**
 * OpenMetrics timestamps: seconds as a finite real number, returned as integer ms, plus the
 * value truncated to whole nanoseconds (`ns`), the resolution at which OpenMetrics orders and
 * de-duplicates samples of a group.
 */
export function parseSecondsAsMs(s: string, a: number, b: number): { ns: number; ms: number } | undefined {
  const seconds = parseNumber(s, a, b, false);
  if (seconds === undefined) return undefined;
  return { ns: Math.trunc(seconds * 1e9), ms: Math.round(seconds * 1000) };
}

/** A value as both formats print it: `NaN`, `+Inf`, `-Inf`, or the shortest exact decimal. */
export function formatValue(v: number): string {
  if (v !== v) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0 && 1 / v < 0) return '-0';
  return String(v);
}

/** ms → seconds for OpenMetrics, exact for integer ms (parse rounds back to the same ms). */
export function formatSeconds(ms: number): string {
  return String(ms / 1000);
}
