/**
 * Exact money: integer micro-units (10^-6 of the currency) as bigint, decimal strings on the wire,
 * rationals where a price or a share is not a whole number of micro-units, and largest-remainder
 * rounding wherever an integer total is split. No float ever holds an amount.
 */
export const MICRO_PER_UNIT = 1_000_000n;

export class CostError extends Error {
  constructor(
    readonly code: CostErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CostError';
  }
}

export type CostErrorCode =
  | 'DECIMAL_INVALID'
  | 'DECIMAL_TOO_PRECISE'
  | 'PRICE_NOT_FOUND'
  | 'PRICE_AMBIGUOUS'
  | 'CURRENCY_MISMATCH'
  | 'ALLOCATION_INVALID'
  | 'INVENTORY_INVALID'
  | 'INVOICE_HEADER_INVALID';

const DECIMAL_RE = /^([+-])?(\d+)(?:\.(\d+))?$/;

/**
 * Parses a plain decimal ("12.29", "-0.5", "3") into an integer scaled by 10^scale. More
 * fractional digits than `scale` are accepted only when the extra digits are zeros, so nothing is
 * rounded silently.
 */
export function parseScaledDecimal(text: string, scale: number): bigint {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) throw new CostError('DECIMAL_INVALID', `not a decimal number: ${JSON.stringify(text)}`);
  const [, sign, whole, frac = ''] = m;
  const kept = frac.slice(0, scale);
  if (/[1-9]/.test(frac.slice(scale))) {
    throw new CostError('DECIMAL_TOO_PRECISE', `${text} has more than ${scale} decimal places`);
  }
  const v = BigInt(whole ?? '0') * 10n ** BigInt(scale) + BigInt(kept.padEnd(scale, '0') || '0');
  return sign === '-' ? -v : v;
}

export function parseMicro(text: string): bigint {
  return parseScaledDecimal(text, 6);
}

/** An integer scaled by 10^scale as a decimal string, trailing zeros kept to `minFraction`. */
export function formatScaled(v: bigint, scale: number, minFraction = 0): string {
  const neg = v < 0n;
  const abs = neg ? -v : v;
  const base = 10n ** BigInt(scale);
  const whole = abs / base;
  let frac = (abs % base).toString().padStart(scale, '0').replace(/0+$/, '');
  if (frac.length < minFraction) frac = frac.padEnd(minFraction, '0');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** Micro-units as a decimal string of the currency: 1234567n → "1.234567", 5000000n → "5.00". */
export function formatMicro(v: bigint): string {
  return formatScaled(v, 6, 2);
}

export function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

export function lcm(a: bigint, b: bigint): bigint {
  if (a === 0n || b === 0n) return 0n;
  return (a / gcd(a, b)) * b;
}

/** floor(a / b) for b > 0 (bigint division truncates towards zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** Rounds a / b to the nearest integer, halves to even (banker's rounding), b > 0. */
export function roundHalfEven(a: bigint, b: bigint): bigint {
  const q = floorDiv(a, b);
  const r2 = (a - q * b) * 2n;
  if (r2 > b || (r2 === b && q % 2n !== 0n)) return q + 1n;
  return q;
}

/** A non-normalised-on-demand exact fraction; den > 0. */
export interface Rational {
  num: bigint;
  den: bigint;
}

export function rational(num: bigint, den = 1n): Rational {
  if (den === 0n) throw new CostError('ALLOCATION_INVALID', 'zero denominator');
  const g = gcd(num, den) || 1n;
  const s = den < 0n ? -1n : 1n;
  return { num: (s * num) / g, den: (s * den) / g };
}

export function addR(a: Rational, b: Rational): Rational {
  if (a.den === b.den) return rational(a.num + b.num, a.den);
  return rational(a.num * b.den + b.num * a.den, a.den * b.den);
}

export function mulR(a: Rational, b: Rational): Rational {
  return rational(a.num * b.num, a.den * b.den);
}

export function divR(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den, a.den * b.num);
}

export const ZERO: Rational = { num: 0n, den: 1n };

/** A decimal string as an exact fraction ("0.333" → 333/1000). */
export function parseRational(text: string): Rational {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) throw new CostError('DECIMAL_INVALID', `not a decimal number: ${JSON.stringify(text)}`);
  const frac = m[3] ?? '';
  return rational(parseScaledDecimal(text, frac.length), 10n ** BigInt(frac.length));
}

/**
 * Splits an integer `total` over non-negative integer `weights` in proportion, exactly: each part
 * is the floor of its quota, and the units left over go one each to the largest remainders (ties
 * to the lower index, so callers order parties deterministically). Σ result = total, always. A
 * negative total (a credit) is split like its absolute value and negated. All-zero weights only
 * split a zero total.
 */
export function largestRemainder(total: bigint, weights: readonly bigint[]): bigint[] {
  if (total < 0n) return largestRemainder(-total, weights).map((v) => -v);
  let sum = 0n;
  for (const w of weights) {
    if (w < 0n) throw new CostError('ALLOCATION_INVALID', 'negative weight');
    sum += w;
  }
  if (sum === 0n) {
    if (total === 0n) return weights.map(() => 0n);
    throw new CostError('ALLOCATION_INVALID', `cannot split ${total} over zero weights`);
  }
  const parts: bigint[] = new Array<bigint>(weights.length);
  const rems: bigint[] = new Array<bigint>(weights.length);
  let given = 0n;
  for (let i = 0; i < weights.length; i++) {
    const p = total * (weights[i] as bigint);
    const q = p / sum;
    parts[i] = q;
    rems[i] = p - q * sum;
    given += q;
  }
  let left = total - given;
  if (left > 0n) {
    const order = weights.map((_, i) => i);
    if (sum <= BigInt(Number.MAX_SAFE_INTEGER)) {
      // Remainders are below `sum`: as doubles they compare exactly, and much faster.
      const r = rems.map(Number);
      order.sort((a, b) => (r[b] as number) - (r[a] as number) || a - b);
    } else {
      order.sort((a, b) => {
        const ra = rems[a] as bigint;
        const rb = rems[b] as bigint;
        return ra > rb ? -1 : ra < rb ? 1 : a - b;
      });
    }
    for (const i of order) {
      if (left === 0n) break;
      parts[i] = (parts[i] as bigint) + 1n;
      left--;
    }
  }
  return parts;
}

/** Rationals split over an integer total: brought to one denominator, then largestRemainder. */
export function largestRemainderRational(total: bigint, weights: readonly Rational[]): bigint[] {
  let den = 1n;
  for (const w of weights) den = lcm(den, w.den);
  return largestRemainder(
    total,
    weights.map((w) => w.num * (den / w.den)),
  );
}
