/**
 * Prometheus-worded syntax errors. Lezer tells us where parsing failed but not what was wrong,
 * so the query is tokenised here the way PromQL's lexer sees it: a lexing problem (bad number,
 * unbalanced parenthesis, stray character) is reported with its own text, anything else as
 * `unexpected <token>` using Prometheus's token descriptions.
 */
import { FUNCTIONS } from './function-table';

type TokenKind =
  | 'number'
  | 'duration'
  | 'string'
  | 'identifier'
  | 'metric identifier'
  | 'keyword'
  | 'aggregator'
  | 'operator'
  | 'punct';

export interface Token {
  kind: TokenKind;
  pos: number;
  text: string;
}

export interface LexResult {
  tokens: Token[];
  error?: { pos: number; msg: string };
}

const AGGREGATORS = new Set([
  'sum',
  'avg',
  'count',
  'min',
  'max',
  'group',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'count_values',
  'quantile',
  'limitk',
  'limit_ratio',
]);
const KEYWORDS = new Set([
  'offset',
  'smoothed',
  'anchored',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'fill',
  'fill_left',
  'fill_right',
  'bool',
  'start',
  'end',
  'step',
  'range',
]);
const WORD_OPERATORS = new Set(['and', 'or', 'unless', 'atan2']);
const OPERATORS = ['==', '!=', '<=', '>=', '*', '/', '%', '+', '-', '^', '<', '>'];

/** Go's %q for a single character. */
const quoteRune = (c: string): string => (c === "'" ? "'\\''" : c === '\\' ? "'\\\\'" : `'${c}'`);
const isAlpha = (c: string | undefined): boolean => c !== undefined && /[A-Za-z_]/.test(c);
const isAlnum = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_]/.test(c);

/** Scans a number or duration at i; returns its end, or the end of the bad text plus one char. */
function scanNumberOrDuration(q: string, i: number): { end: number; kind: 'number' | 'duration' } | { bad: number } {
  const num =
    /^(0[xX]_?[0-9a-fA-F]+(?:_[0-9a-fA-F]+)*|(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+)?)/.exec(
      q.slice(i),
    );
  let end = i + (num ? num[0].length : 0);
  if (num && !isAlnum(q[end]) && q[end] !== '.') return { end, kind: 'number' };
  const dur = /^(?:\d+(?:ms|[smhdwy]))+/.exec(q.slice(i));
  if (dur && !isAlnum(q[i + dur[0].length])) return { end: i + dur[0].length, kind: 'duration' };
  if (dur) end = i + dur[0].length;
  return { bad: Math.min(q.length, end + 1) };
}

export function lexPromql(q: string): LexResult {
  const tokens: Token[] = [];
  let depth = 0;
  let bracket = false;
  let i = 0;
  const fail = (pos: number, msg: string): LexResult => ({ tokens, error: { pos, msg } });
  const push = (kind: TokenKind, end: number) => {
    tokens.push({ kind, pos: i, text: q.slice(i, end) });
    i = end;
  };
  while (i < q.length || depth !== 0 || bracket) {
    const c = q[i];
    if (c === undefined) return fail(q.length, depth !== 0 ? 'unclosed left parenthesis' : 'unclosed left bracket');
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < q.length && q[i] !== '\n') i++;
      continue;
    }
    if (/\d/.test(c) || (c === '.' && /\d/.test(q[i + 1] ?? ''))) {
      const r = scanNumberOrDuration(q, i);
      if ('bad' in r) return fail(i, `bad number or duration syntax: ${JSON.stringify(q.slice(i, r.bad))}`);
      push(r.kind, r.end);
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < q.length && q[j] !== c && (c === '`' || q[j] !== '\n')) j += c !== '`' && q[j] === '\\' ? 2 : 1;
      if (j >= q.length || q[j] !== c)
        return fail(i, c === '`' ? 'unterminated raw string' : 'unterminated quoted string');
      push('string', j + 1);
      continue;
    }
    if (c === '{') {
      const inner = lexBraces(q, i, tokens);
      if (inner.error) return { tokens, error: inner.error };
      i = inner.end;
      continue;
    }
    if (isAlpha(c) || c === ':') {
      if (bracket && c === ':') {
        push('punct', q[i + 1] === ':' ? i + 2 : i + 1);
        continue;
      }
      const word = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(q.slice(i))![0];
      const lower = word.toLowerCase();
      const kind: TokenKind = word.includes(':')
        ? 'metric identifier'
        : lower === 'inf' || lower === 'nan'
          ? 'number'
          : AGGREGATORS.has(lower)
            ? 'aggregator'
            : KEYWORDS.has(lower)
              ? 'keyword'
              : WORD_OPERATORS.has(lower)
                ? 'operator'
                : 'identifier';
      push(kind, i + word.length);
      continue;
    }
    if (c === '(') {
      depth++;
      push('punct', i + 1);
      continue;
    }
    if (c === ')') {
      if (--depth < 0) return fail(i + 1, "unexpected right parenthesis ')'");
      push('punct', i + 1);
      continue;
    }
    if (c === '[') {
      if (bracket) return fail(i, "unexpected left bracket '['");
      bracket = true;
      push('punct', i + 1);
      continue;
    }
    if (c === ']') {
      if (!bracket) return fail(i, "unexpected right bracket ']'");
      bracket = false;
      push('punct', i + 1);
      continue;
    }
    if (c === '=' && q[i + 1] === '~') return fail(i, "unexpected character after '=': '~'");
    if (c === '!' && q[i + 1] !== '=') return fail(i, `unexpected character after '!': ${quoteRune(q[i + 1] ?? '')}`);
    const op = OPERATORS.find((o) => q.startsWith(o, i));
    if (op) {
      push('operator', i + op.length);
      continue;
    }
    if (c === '=' || c === ',' || c === '@') {
      push(c === '@' ? 'operator' : 'punct', i + 1);
      continue;
    }
    return fail(i, `unexpected character: ${quoteRune(String.fromCodePoint(q.codePointAt(i)!))}`);
  }
  return { tokens };
}

/** Label matchers inside `{…}`; `open` is the brace's index. */
function lexBraces(q: string, open: number, tokens: Token[]): { end: number; error?: { pos: number; msg: string } } {
  tokens.push({ kind: 'punct', pos: open, text: '{' });
  let i = open + 1;
  for (;;) {
    const c = q[i];
    if (c === undefined) return { end: i, error: { pos: q.length, msg: 'unexpected end of input inside braces' } };
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '}') {
      tokens.push({ kind: 'punct', pos: i, text: '}' });
      return { end: i + 1 };
    }
    if (c === '{') return { end: i, error: { pos: i, msg: "unexpected left brace '{'" } };
    if (isAlpha(c)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(q.slice(i))![0];
      tokens.push({ kind: 'identifier', pos: i, text: word });
      i += word.length;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < q.length && q[j] !== c && (c === '`' || q[j] !== '\n')) j += c !== '`' && q[j] === '\\' ? 2 : 1;
      if (j >= q.length || q[j] !== c)
        return { end: i, error: { pos: i, msg: c === '`' ? 'unterminated raw string' : 'unterminated quoted string' } };
      tokens.push({ kind: 'string', pos: i, text: q.slice(i, j + 1) });
      i = j + 1;
      continue;
    }
    const op = ['=~', '!~', '!=', '=', ','].find((o) => q.startsWith(o, i));
    if (op) {
      tokens.push({ kind: op === ',' ? 'punct' : 'operator', pos: i, text: op });
      i += op.length;
      continue;
    }
    if (c === '!')
      return {
        end: i,
        error: { pos: i, msg: `unexpected character after '!' inside braces: ${quoteRune(q[i + 1] ?? '')}` },
      };
    return { end: i, error: { pos: i, msg: `unexpected character inside braces: ${quoteRune(c)}` } };
  }
}

/** Prometheus's description of a token in "unexpected …" messages. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'keyword':
      return `<${t.text}>`;
    case 'aggregator':
      return `<aggr:${t.text}>`;
    case 'operator':
      // `=` `=~` `!~` inside braces are matcher operators, printed like punctuation.
      return t.text === '=' || t.text === '=~' || t.text === '!~' ? JSON.stringify(t.text) : `<op:${t.text}>`;
    case 'punct':
      return JSON.stringify(t.text);
    case 'identifier':
    case 'metric identifier':
      return `${t.kind} ${JSON.stringify(t.text)}`;
    default: {
      const chars = [...t.text];
      return `${t.kind} ${chars.length > 10 ? `${JSON.stringify(chars.slice(0, 10).join(''))}...` : JSON.stringify(t.text)}`;
    }
  }
}

/** The message and offset for a syntax error lezer found at `at`. */
export function describeSyntaxError(q: string, at: number): { pos: number; msg: string } {
  const { tokens, error } = lexPromql(q);
  const idx = tokens.findIndex((t) => t.pos + t.text.length > at);
  const tok = idx >= 0 ? tokens[idx] : undefined;
  if (error && (!tok || error.pos <= tok.pos + tok.text.length)) return error;
  if (!tok) return { pos: q.length, msg: 'unexpected end of input' };
  const prev = tokens[idx - 1];
  // The grammar lists the known functions, so an unknown one surfaces as a stray "(".
  if (tok.text === '(' && prev?.kind === 'identifier' && !FUNCTIONS[prev.text]) {
    return { pos: prev.pos, msg: `unknown function with name ${JSON.stringify(prev.text)}` };
  }
  if (
    prev &&
    tok.text !== '(' &&
    ['by', 'without', 'on', 'ignoring'].includes(prev.text.toLowerCase()) &&
    prev.kind === 'keyword'
  ) {
    return { pos: tok.pos, msg: `unexpected ${describeToken(tok)} in grouping opts, expected "("` };
  }
  return { pos: tok.pos, msg: `unexpected ${describeToken(tok)}` };
}
