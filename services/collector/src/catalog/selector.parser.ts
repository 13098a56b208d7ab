import type { LabelMatcher, MatchType } from '@arcwatch/contracts';
import { CollectorError } from '../errors';

/**
 * The series selectors of `match[]`: `name`, `name{l="v",…}`, `{l=~"v",…}`, with the four
 * matcher operators and Go-style quoted strings ("…", '…', `…`). Like Prometheus, a selector
 * must have at least one matcher that does not match the empty string.
 */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\u0007', b: '\b', f: '\f', v: '\v' };

class Cursor {
  i = 0;
  constructor(readonly text: string) {}
  skipSpace(): void {
    while (this.i < this.text.length && /\s/.test(this.text[this.i])) this.i++;
  }
  peek(): string {
    return this.text[this.i] ?? '';
  }
  fail(message: string): never {
    throw new CollectorError('QUERY_INVALID', `invalid selector ${JSON.stringify(this.text)} at char ${this.i + 1}: ${message}`);
  }
  match(re: RegExp): string | undefined {
    const m = re.exec(this.text.slice(this.i));
    if (!m) return undefined;
    this.i += m[0].length;
    return m[0];
  }
}

function readString(c: Cursor): string {
  const quote = c.peek();
  if (quote !== '"' && quote !== "'" && quote !== '`') c.fail('expected a quoted string');
  c.i++;
  let out = '';
  while (c.i < c.text.length) {
    const ch = c.text[c.i++];
    if (ch === quote) return out;
    if (ch === '\\' && quote !== '`') {
      const esc = c.text[c.i++];
      if (esc === 'x' || esc === 'u' || esc === 'U') {
        const len = esc === 'x' ? 2 : esc === 'u' ? 4 : 8;
        const hex = c.text.slice(c.i, c.i + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) c.fail(`bad \\${esc} escape`);
        out += String.fromCodePoint(parseInt(hex, 16));
        c.i += len;
      } else if (esc !== undefined && ESCAPES[esc] !== undefined) {
        out += ESCAPES[esc];
      } else {
        c.fail(`unknown escape \\${esc ?? ''}`);
      }
    } else {
      out += ch;
    }
  }
  return c.fail('unterminated string');
}

export function matcherMatches(m: LabelMatcher, value: string): boolean {
  switch (m.type) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
      return new RegExp(`^(?:${m.value})$`).test(value);
    case '!~':
      return !new RegExp(`^(?:${m.value})$`).test(value);
  }
}

export function parseSelector(text: string): LabelMatcher[] {
  const c: Cursor = new Cursor(text);
  const matchers: LabelMatcher[] = [];
  c.skipSpace();
  const name = c.match(METRIC_NAME);
  if (name) matchers.push({ name: '__name__', type: '=', value: name });
  c.skipSpace();
  if (c.peek() === '{') {
    c.i++;
    for (;;) {
      c.skipSpace();
      if (c.peek() === '}') {
        c.i++;
        break;
      }
      const label = c.peek() === '"' ? readString(c) : c.match(LABEL_NAME);
      if (!label) c.fail('expected a label name');
      c.skipSpace();
      const op = c.match(/^(=~|!~|!=|=)/) as MatchType | undefined;
      if (!op) c.fail('expected one of = != =~ !~');
      c.skipSpace();
      const value = readString(c);
      if (op === '=~' || op === '!~') {
        try {
          new RegExp(`^(?:${value})$`);
        } catch (err) {
          c.fail(`bad regex ${JSON.stringify(value)}: ${(err as Error).message}`);
        }
      }
      if (label === '__name__' && name) c.fail('metric name given twice');
      matchers.push({ name: label, type: op, value });
      c.skipSpace();
      if (c.peek() === ',') c.i++;
      else if (c.peek() !== '}') c.fail("expected ',' or '}'");
    }
  }
  c.skipSpace();
  if (c.i < text.length) c.fail('unexpected text after the selector');
  if (matchers.length === 0) c.fail('empty selector');
  if (!matchers.some((m) => !matcherMatches(m, ''))) c.fail('vector selector must contain at least one non-empty matcher');
  return matchers;
}
