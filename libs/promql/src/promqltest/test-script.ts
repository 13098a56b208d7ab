/**
 * Reads promqltest scripts (Prometheus's `promql/promqltest` language) into commands: `load`,
 * `clear` and `eval` with its `expect` lines and expected series. See FORMAT.upstream-README.md
 * beside the fixtures.
 */
import { parseDurationMs } from '../literals';

export type ExpectType = 'fail' | 'warn' | 'info' | 'no_warn' | 'no_info' | 'ordered';

export interface Expectation {
  type: ExpectType;
  match?: { kind: 'msg' | 'regex'; text: string };
}

export interface ScriptLine {
  line: number;
  text: string;
}

export interface LoadCommand {
  kind: 'load';
  line: number;
  intervalMs: number;
  /** `load_with_nhcb`: the classic histograms are also loaded as native ones upstream. */
  withNhcb: boolean;
  series: ScriptLine[];
}

export interface EvalCommand {
  kind: 'eval';
  line: number;
  query: string;
  instantAtMs?: number;
  range?: { startMs: number; endMs: number; stepMs: number };
  expectations: Expectation[];
  /** Series lines and lone scalar values expected in the result. */
  expected: ScriptLine[];
  expectString?: string;
  expectRangeVector?: { startMs: number; endMs: number; stepMs: number };
}

export type TestCommand = LoadCommand | { kind: 'clear'; line: number } | EvalCommand;

/** `50m`, `1h30m`, or plain seconds (`0`, `90`). */
export function parseTestTime(text: string): number {
  const d = parseDurationMs(text);
  if (d !== undefined) return d;
  const secs = Number(text);
  if (text === '' || Number.isNaN(secs)) throw new Error(`bad time ${JSON.stringify(text)}`);
  return Math.round(secs * 1000);
}

const EVAL_RE = /^eval(?:_(fail|warn|info|ordered))?\s+(instant|range)\s+(.*)$/;
const INSTANT_RE = /^at\s+(\S+)\s+(.*)$/;
const RANGE_RE = /^from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)\s+(.*)$/;
const EXPECT_RE = /^expect\s+(fail|warn|info|no_warn|no_info|ordered)(?:\s+(msg|regex):\s?(.*))?$/;
const STRING_RE = /^expect\s+string\s+(.*)$/;
const RANGE_VECTOR_RE = /^expect\s+range\s+vector\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)$/;

function isCommandStart(line: string): boolean {
  return /^(load|load_with_nhcb|clear|eval|eval_fail|eval_warn|eval_info|eval_ordered)\b/.test(line);
}

function unquoteExpectString(text: string): string {
  const t = text.trim();
  const q = t[0];
  if ((q === '"' || q === '`') && t.endsWith(q) && t.length >= 2) return t.slice(1, -1);
  throw new Error(`expected string must be quoted: ${text}`);
}

export function parseTestScript(text: string): TestCommand[] {
  const lines = text.split('\n');
  const commands: TestCommand[] = [];
  let i = 0;
  // A command's body: the following lines up to a blank line or the next command.
  const body = (): ScriptLine[] => {
    const out: ScriptLine[] = [];
    while (i < lines.length) {
      const raw = lines[i];
      const trimmed = raw.trim();
      if (trimmed === '' || isCommandStart(raw)) break;
      i++;
      if (trimmed.startsWith('#')) continue;
      out.push({ line: i, text: trimmed });
    }
    return out;
  };
  while (i < lines.length) {
    const raw = lines[i];
    const trimmed = raw.trim();
    const lineNo = i + 1;
    i++;
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (trimmed === 'clear') {
      commands.push({ kind: 'clear', line: lineNo });
      continue;
    }
    const load = /^load(_with_nhcb)?\s+(\S+)$/.exec(trimmed);
    if (load) {
      commands.push({
        kind: 'load',
        line: lineNo,
        intervalMs: parseTestTime(load[2]),
        withNhcb: !!load[1],
        series: body(),
      });
      continue;
    }
    const ev = EVAL_RE.exec(trimmed);
    if (!ev) throw new Error(`line ${lineNo}: unknown command ${JSON.stringify(trimmed)}`);
    const cmd: EvalCommand = { kind: 'eval', line: lineNo, query: '', expectations: [], expected: [] };
    if (ev[1]) cmd.expectations.push({ type: ev[1] as ExpectType });
    if (ev[2] === 'instant') {
      const m = INSTANT_RE.exec(ev[3]);
      if (!m) throw new Error(`line ${lineNo}: bad instant eval ${JSON.stringify(trimmed)}`);
      cmd.instantAtMs = parseTestTime(m[1]);
      cmd.query = m[2];
    } else {
      const m = RANGE_RE.exec(ev[3]);
      if (!m) throw new Error(`line ${lineNo}: bad range eval ${JSON.stringify(trimmed)}`);
      cmd.range = { startMs: parseTestTime(m[1]), endMs: parseTestTime(m[2]), stepMs: parseTestTime(m[3]) };
      cmd.query = m[4];
    }
    for (const l of body()) {
      const exp = EXPECT_RE.exec(l.text);
      const str = STRING_RE.exec(l.text);
      const rv = RANGE_VECTOR_RE.exec(l.text);
      if (rv)
        cmd.expectRangeVector = {
          startMs: parseTestTime(rv[1]),
          endMs: parseTestTime(rv[2]),
          stepMs: parseTestTime(rv[3]),
        };
      else if (str) cmd.expectString = unquoteExpectString(str[1]);
      else if (exp)
        cmd.expectations.push({
          type: exp[1] as ExpectType,
          match: exp[2] ? { kind: exp[2] as 'msg' | 'regex', text: exp[3].trim() } : undefined,
        });
      else if (l.text.startsWith('expected_fail_message '))
        cmd.expectations.push({ type: 'fail', match: { kind: 'msg', text: l.text.slice(22).trim() } });
      else if (l.text.startsWith('expected_fail_regexp '))
        cmd.expectations.push({ type: 'fail', match: { kind: 'regex', text: l.text.slice(21).trim() } });
      else cmd.expected.push(l);
    }
    commands.push(cmd);
  }
  return commands;
}
