import type { Labels } from '@arcwatch/contracts';
import { detach } from './label-cache';

/**
 * Label sets and names. OpenMetrics (`strict`) allows no blanks and no trailing comma inside
 * `{…}`; text 0.0.4 allows both, as Prometheus's own parser does.
 */

const C_QUOTE = 34;
const C_BACKSLASH = 92;
const C_COMMA = 44;
const C_EQ = 61;
const C_CLOSE = 125;
const C_SPACE = 32;
const C_TAB = 9;
const C_N = 110;

function isAlpha(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

export function isLabelNameChar(c: number, first: boolean): boolean {
  return isAlpha(c) || c === 95 || (!first && c >= 48 && c <= 57);
}

export function isMetricNameChar(c: number, first: boolean): boolean {
  return isLabelNameChar(c, first) || c === 58;
}

export function isValidMetricName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) if (!isMetricNameChar(name.charCodeAt(i), i === 0)) return false;
  return true;
}

export function isValidLabelName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) if (!isLabelNameChar(name.charCodeAt(i), i === 0)) return false;
  return true;
}

/** Where a label block failed: the index of the offending character and why. */
export interface LabelFailure {
  at: number;
  message: string;
}

export interface LabelBlock {
  labels: Labels;
  /** Index just after the closing brace. */
  end: number;
}

function skipBlanks(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c !== C_SPACE && c !== C_TAB) break;
    i++;
  }
  return i;
}

/**
 * Reads `{name="value",…}` starting at `s[start] === '{'`. Returns the labels and the index after
 * `}`, or a failure. Escapes `\\`, `\"`, `\n` are decoded; any other escaped character is kept
 * with its backslash, as both reference parsers do.
 */
export function parseLabelBlock(s: string, start: number, end: number, strict: boolean): LabelBlock | LabelFailure {
  const labels: Labels = {};
  let i = start + 1;
  let first = true;
  for (;;) {
    if (!strict) i = skipBlanks(s, i, end);
    if (i >= end) return { at: i, message: 'label set is not closed with "}"' };
    // Reached only at the start or after a comma: text 0.0.4 tolerates `{a="1",}`.
    if (s.charCodeAt(i) === C_CLOSE) {
      if (strict && !first) return { at: i, message: 'trailing comma in label set' };
      return { labels, end: i + 1 };
    }
    const nameStart = i;
    while (i < end && isLabelNameChar(s.charCodeAt(i), i === nameStart)) i++;
    if (i === nameStart) return { at: i, message: 'invalid label name' };
    const name = s.slice(nameStart, i);
    if (!strict) i = skipBlanks(s, i, end);
    if (i >= end || s.charCodeAt(i) !== C_EQ) return { at: i, message: `expected "=" after label name "${name}"` };
    i++;
    if (!strict) i = skipBlanks(s, i, end);
    if (i >= end || s.charCodeAt(i) !== C_QUOTE) return { at: i, message: `expected quoted value for label "${name}"` };
    i++;
    const valueStart = i;
    let escaped = false;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c === C_QUOTE) break;
      if (c === C_BACKSLASH) {
        escaped = true;
        i++;
      }
      i++;
    }
    if (i >= end) return { at: valueStart - 1, message: `unterminated value for label "${name}"` };
    if (Object.prototype.hasOwnProperty.call(labels, name))
      return { at: nameStart, message: `duplicate label "${name}"` };
    labels[detach(name)] = escaped ? unescapeLabelValue(s, valueStart, i) : detach(s.slice(valueStart, i));
    i++;
    first = false;
    if (!strict) i = skipBlanks(s, i, end);
    if (i >= end) return { at: i, message: 'label set is not closed with "}"' };
    const c = s.charCodeAt(i);
    if (c === C_COMMA) {
      i++;
      if (strict && i < end && s.charCodeAt(i) === C_CLOSE)
        return { at: i - 1, message: 'trailing comma in label set' };
      continue;
    }
    if (c === C_CLOSE) return { labels, end: i + 1 };
    return { at: i, message: 'expected "," or "}" after label value' };
  }
}

export function unescapeLabelValue(s: string, a: number, b: number): string {
  let out = '';
  let from = a;
  for (let i = a; i < b; i++) {
    if (s.charCodeAt(i) !== C_BACKSLASH || i + 1 >= b) continue;
    const next = s.charCodeAt(i + 1);
    if (next === C_BACKSLASH || next === C_QUOTE || next === C_N) {
      out += s.slice(from, i) + (next === C_N ? '\n' : next === C_QUOTE ? '"' : '\\');
      from = i + 2;
    }
    i++;
  }
  return out + s.slice(from, b);
}

/**
 * HELP text: `\\` and `\n` are escapes (and `\"` in OpenMetrics, where HELP is an escaped
 * string like a label value); anything else after a backslash stays as written.
 */
export function unescapeHelp(s: string, quotes: boolean): string {
  if (s.indexOf('\\') === -1) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const next = s[i + 1];
    if (c === '\\' && (next === '\\' || next === 'n' || (quotes && next === '"'))) {
      out += next === 'n' ? '\n' : next;
      i++;
    } else {
      out += c;
    }
  }
  return out;
}

export function escapeLabelValue(v: string): string {
  if (!/[\\"\n]/.test(v)) return v;
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c));
}

/** OpenMetrics escapes `"` in HELP as well; text 0.0.4 only `\` and newline. */
export function escapeHelp(v: string, quotes: boolean): string {
  return v.replace(quotes ? /[\\"\n]/g : /[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c));
}

/** Label set with `__name__`, for consumers that key series by their full label set. */
export function sampleLabels(sample: { name: string; labels: Labels }): Labels {
  return { ...sample.labels, __name__: sample.name };
}

/** Code points, not UTF-16 units: the OpenMetrics exemplar limit counts characters. */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}
