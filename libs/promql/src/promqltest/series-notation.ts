/**
 * The series notation of promqltest and `promtool test rules`: `metric{a="b"} 1+2x3 _ stale`.
 * Native histogram points (`{{...}}`) are recognised but not decoded; callers skip them.
 */
import type { Labels } from '@arcwatch/contracts';
import { STALE_NAN } from '@arcwatch/contracts';
import { parseNumberLiteral, unquoteString } from '../literals';

/** One step of an expanded value sequence. */
export type SeriesPoint = { kind: 'value'; value: number } | { kind: 'omitted' } | { kind: 'histogram' };

export interface SeriesLine {
  labels: Labels;
  points: SeriesPoint[];
}

const IDENT = /^[A-Za-z_:][A-Za-z0-9_:]*/;

function readQuoted(text: string, i: number): { value: string; end: number } {
  const q = text[i];
  let j = i + 1;
  while (j < text.length && text[j] !== q) j += text[j] === '\\' && q !== '`' ? 2 : 1;
  return { value: unquoteString(text.slice(i, j + 1)), end: j + 1 };
}

/** Parses the `metric{labels}` head of a line; returns the labels and where the values start. */
export function parseSeriesHead(text: string): { labels: Labels; rest: string } {
  const labels: Labels = {};
  let i = 0;
  const m = IDENT.exec(text);
  if (m) {
    labels.__name__ = m[0];
    i = m[0].length;
  }
  if (text[i] === '{') {
    i++;
    for (;;) {
      while (/[\s,]/.test(text[i] ?? '')) i++;
      if (text[i] === '}') {
        i++;
        break;
      }
      if (i >= text.length) throw new Error(`unterminated label set in ${JSON.stringify(text)}`);
      let name: string;
      if (text[i] === '"' || text[i] === "'" || text[i] === '`') {
        const q = readQuoted(text, i);
        name = q.value;
        i = q.end;
      } else {
        const n = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
        if (!n) throw new Error(`bad label name at ${JSON.stringify(text.slice(i))}`);
        name = n[0];
        i += name.length;
      }
      while (text[i] === ' ') i++;
      if (text[i] !== '=') {
        // `{"metric.name"}`: a quoted name on its own is the metric name.
        labels.__name__ = name;
        continue;
      }
      i++;
      while (text[i] === ' ') i++;
      const v = readQuoted(text, i);
      i = v.end;
      if (v.value !== '') labels[name] = v.value;
    }
  }
  if (!m && text[0] !== '{') throw new Error(`bad series descriptor ${JSON.stringify(text)}`);
  return { labels, rest: text.slice(i).trim() };
}

/** Splits the values part into tokens, keeping `{{ ... }}` (which contains spaces) whole. */
function tokens(rest: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < rest.length) {
    while (/\s/.test(rest[i] ?? '')) i++;
    if (i >= rest.length) break;
    let j = i;
    let depth = 0;
    while (j < rest.length && (depth > 0 || !/\s/.test(rest[j]))) {
      if (rest[j] === '{') depth++;
      else if (rest[j] === '}') depth--;
      j++;
    }
    out.push(rest.slice(i, j));
    i = j;
  }
  return out;
}

function number(text: string): number {
  const v = parseNumberLiteral(text);
  if (v === undefined) throw new Error(`bad value ${JSON.stringify(text)}`);
  return v;
}

/** Expands one token: `_`, `_xN`, `stale`, `v`, `vxN`, `a+bxN`, `a-bxN`. */
function expand(tok: string): SeriesPoint[] {
  if (tok.includes('{{')) {
    const times = /x(\d+)$/.exec(tok.slice(tok.lastIndexOf('}}')));
    return Array.from({ length: times ? Number(times[1]) + 1 : 1 }, () => ({ kind: 'histogram' as const }));
  }
  if (tok === '_') return [{ kind: 'omitted' }];
  if (tok === 'stale') return [{ kind: 'value', value: STALE_NAN }];
  const rep = /^(.*)x(\d+)$/.exec(tok);
  if (!rep) return [{ kind: 'value', value: number(tok) }];
  const body = rep[1];
  const times = Number(rep[2]);
  if (body === '_') return Array.from({ length: times }, () => ({ kind: 'omitted' as const }));
  // The increment starts at the last sign that is neither leading nor an exponent's.
  let split = -1;
  for (let k = body.length - 1; k > 0; k--) {
    if ((body[k] === '+' || body[k] === '-') && !/[eE]/.test(body[k - 1])) {
      split = k;
      break;
    }
  }
  if (split < 0) {
    const v = number(body);
    return Array.from({ length: times + 1 }, () => ({ kind: 'value' as const, value: v }));
  }
  let v = number(body.slice(0, split));
  const inc = number(body.slice(split));
  const out: SeriesPoint[] = [{ kind: 'value', value: v }];
  for (let k = 1; k <= times; k++) {
    v += inc;
    out.push({ kind: 'value', value: v });
  }
  return out;
}

export function parseSeriesValues(rest: string): SeriesPoint[] {
  return tokens(rest).flatMap(expand);
}

export function parseSeriesLine(line: string): SeriesLine {
  const { labels, rest } = parseSeriesHead(line.trim());
  return { labels, points: parseSeriesValues(rest) };
}
