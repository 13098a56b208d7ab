/**
 * Literal syntax shared by the query parser and the test-file reader: numbers (Go float syntax,
 * hex, Inf/NaN, durations as seconds), durations, and Go-style quoted strings.
 */

import { parseDuration } from '@arcwatch/config-files';

/** Parses `1h30m`-style durations; undefined when the text is not one (PromQL has no bare `0`). */
export function parseDurationMs(text: string): number | undefined {
  return text === '0' ? undefined : parseDuration(text);
}

/** A number literal as PromQL reads it: floats, hex, Inf/NaN (any case), or a duration in seconds. */
export function parseNumberLiteral(text: string): number | undefined {
  let t = text.trim();
  let sign = 1;
  if (t.startsWith('+') || t.startsWith('-')) {
    if (t[0] === '-') sign = -1;
    t = t.slice(1);
  }
  const lower = t.toLowerCase();
  if (lower === 'inf' || lower === '+inf') return sign * Infinity;
  if (lower === 'nan') return NaN;
  if (/^0x[0-9a-f]+$/i.test(t)) return sign * parseInt(t.slice(2), 16);
  const cleaned = t.includes('_') ? t.replace(/(\d)_(?=\d)/g, '$1') : t;
  if (/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(cleaned)) return sign * Number(cleaned);
  const d = parseDurationMs(t);
  if (d !== undefined) return (sign * d) / 1000;
  return undefined;
}

/**
 * Unquotes a Go-style string literal ("…", '…' with escapes, `…` raw). Byte escapes (`\xff`) are
 * collected as UTF-8 bytes; invalid UTF-8 becomes U+FFFD, which label-name validation rejects.
 */
export function unquoteString(lit: string): string {
  const q = lit[0];
  if (lit.length < 2 || lit[lit.length - 1] !== q) throw new Error(`unterminated quoted string ${lit}`);
  const body = lit.slice(1, -1);
  if (q === '`') return body;
  if (!body.includes('\\')) return body;
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  const pushText = (s: string) => bytes.push(...encoder.encode(s));
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      const cp = body.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      pushText(ch);
      i += ch.length - 1;
      continue;
    }
    const e = body[++i];
    switch (e) {
      case 'a':
        bytes.push(7);
        break;
      case 'b':
        bytes.push(8);
        break;
      case 'f':
        bytes.push(12);
        break;
      case 'n':
        bytes.push(10);
        break;
      case 'r':
        bytes.push(13);
        break;
      case 't':
        bytes.push(9);
        break;
      case 'v':
        bytes.push(11);
        break;
      case '\\':
        bytes.push(92);
        break;
      case '"':
      case "'":
        bytes.push(e.charCodeAt(0));
        break;
      case 'x':
        bytes.push(parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      case 'u':
        pushText(String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16)));
        i += 4;
        break;
      case 'U':
        pushText(String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16)));
        i += 8;
        break;
      default:
        if (e >= '0' && e <= '7') {
          bytes.push(parseInt(body.slice(i, i + 3), 8));
          i += 2;
        } else {
          throw new Error(`invalid escape sequence \\${e}`);
        }
    }
  }
  return new TextDecoder('utf-8').decode(new Uint8Array(bytes));
}

/**
 * Formats a float the way Prometheus's API does: Go's shortest round-trip digits in plain
 * (never exponent) notation, and `+Inf`, `-Inf`, `NaN`.
 */
export function formatPromValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Object.is(v, -0)) return '-0';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  // JS switches to exponent form outside [1e-7, 1e21); expand its shortest digits instead.
  const neg = s[0] === '-';
  const mant = s.slice(neg ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const dot = mant.indexOf('.');
  const digits = mant.replace('.', '');
  const intLen = (dot < 0 ? mant.length : dot) + exp;
  let out: string;
  if (intLen <= 0) out = '0.' + '0'.repeat(-intLen) + digits;
  else if (intLen >= digits.length) out = digits + '0'.repeat(intLen - digits.length);
  else out = digits.slice(0, intLen) + '.' + digits.slice(intLen);
  return neg ? '-' + out : out;
}
