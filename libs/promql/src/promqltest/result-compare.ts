/** Compares a query result with the expectations of an eval command, as promqltest does. */
import type { Labels } from '@arcwatch/contracts';
import type { RawResult } from '../engine';
import { formatPromValue, parseNumberLiteral } from '../literals';
import { almostEqual } from '../math-helpers';
import { formatLabels, labelsKey } from '../values';
import { parseSeriesLine, type SeriesPoint } from './series-notation';
import type { EvalCommand } from './test-script';

const EPSILON = 1e-6;

interface ExpectedSeries {
  labels: Labels;
  points: SeriesPoint[];
  line: number;
}

function sameValue(expected: number, actual: number): boolean {
  return almostEqual(expected, actual, EPSILON);
}

function show(labels: Labels): string {
  return formatLabels(labels);
}

function compareVector(
  cmd: EvalCommand,
  samples: { labels: Labels; value: number }[],
  expected: ExpectedSeries[],
  ordered: boolean,
): string | undefined {
  if (samples.length !== expected.length) {
    return `expected ${expected.length} samples, got ${samples.length}: ${samples.map((s) => `${show(s.labels)} ${formatPromValue(s.value)}`).join(', ')}`;
  }
  const byKey = new Map(expected.map((e, i) => [labelsKey(e.labels), { e, i }]));
  for (let idx = 0; idx < samples.length; idx++) {
    const s = samples[idx];
    const hit = byKey.get(labelsKey(s.labels));
    if (!hit) return `unexpected sample ${show(s.labels)} ${formatPromValue(s.value)}`;
    const p = hit.e.points[0];
    if (!p || p.kind !== 'value' || hit.e.points.length !== 1)
      return `line ${hit.e.line}: an instant result needs exactly one expected value`;
    if (!sameValue(p.value, s.value))
      return `line ${hit.e.line}: ${show(s.labels)} expected ${formatPromValue(p.value)}, got ${formatPromValue(s.value)}`;
    if (ordered && hit.i !== idx)
      return `line ${hit.e.line}: ${show(s.labels)} expected at position ${hit.i}, got ${idx}`;
  }
  return undefined;
}

function compareMatrix(
  series: { labels: Labels; timestamps: number[]; values: number[] }[],
  expected: ExpectedSeries[],
  grid?: { startMs: number; stepMs: number },
): string | undefined {
  if (series.length !== expected.length) {
    return `expected ${expected.length} series, got ${series.length}: ${series.map((s) => show(s.labels)).join(', ')}`;
  }
  const byKey = new Map(expected.map((e) => [labelsKey(e.labels), e]));
  for (const s of series) {
    const e = byKey.get(labelsKey(s.labels));
    if (!e) return `unexpected series ${show(s.labels)}`;
    const want: { t?: number; v: number }[] = [];
    e.points.forEach((p, i) => {
      if (p.kind === 'value') want.push({ t: grid ? grid.startMs + i * grid.stepMs : undefined, v: p.value });
    });
    const got = s.timestamps.map((t, i) => `${t / 1000}:${formatPromValue(s.values[i])}`).join(' ');
    if (want.length !== s.values.length)
      return `line ${e.line}: ${show(s.labels)} expected ${want.length} points, got ${s.values.length} (${got})`;
    for (let i = 0; i < want.length; i++) {
      const w = want[i];
      if ((w.t !== undefined && w.t !== s.timestamps[i]) || !sameValue(w.v, s.values[i])) {
        return `line ${e.line}: ${show(s.labels)} point ${i} expected ${w.t !== undefined ? `${w.t / 1000}:` : ''}${formatPromValue(w.v)}, got (${got})`;
      }
    }
  }
  return undefined;
}

export function compareResult(cmd: EvalCommand, result: RawResult, ordered: boolean): string | undefined {
  if (cmd.expectString !== undefined) {
    if (result.type !== 'string') return `expected a string, got ${result.type}`;
    return result.value === cmd.expectString
      ? undefined
      : `expected string ${JSON.stringify(cmd.expectString)}, got ${JSON.stringify(result.value)}`;
  }
  if (result.type === 'scalar') {
    const want = cmd.expected.length === 1 ? parseNumberLiteral(cmd.expected[0].text) : undefined;
    if (want === undefined)
      return `got scalar ${formatPromValue(result.value)}, expected ${cmd.expected.map((l) => l.text).join(' | ') || 'nothing'}`;
    return sameValue(want, result.value)
      ? undefined
      : `expected scalar ${formatPromValue(want)}, got ${formatPromValue(result.value)}`;
  }
  if (result.type === 'string') return `got string ${JSON.stringify(result.value)} without an expect string line`;
  let expected: ExpectedSeries[];
  try {
    expected = cmd.expected.map((l) => ({ ...parseSeriesLine(l.text), line: l.line }));
  } catch (err) {
    return `bad expectation: ${(err as Error).message}`;
  }
  if (result.type === 'vector') return compareVector(cmd, result.samples, expected, ordered);
  if (cmd.range) return compareMatrix(result.series, expected, cmd.range);
  return compareMatrix(result.series, expected, cmd.expectRangeVector);
}
