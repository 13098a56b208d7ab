import { GoRegexpError } from './go-regexp';
import { MatcherError, newMatcher, type MatchType, type Matcher } from './matcher';

/**
 * The UTF-8 matcher parser (Alertmanager ≥ 0.27, matcher/parse): a lexer over runes and a small
 * state machine. Names and values are either double-quoted Go strings or unquoted runs of
 * non-reserved characters. Error texts keep upstream's `start:end: input: reason` shape.
 */
type TokenKind = 'eof' | '{' | '}' | ',' | '=' | '!=' | '=~' | '!~' | 'quoted' | 'unquoted';

interface Position {
  start: number;
  end: number;
  colStart: number;
  colEnd: number;
}

interface Token extends Position {
  kind: TokenKind;
  value: string;
}

const EOF = '';

function isSpace(ch: string): boolean {
  return /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u.test(ch);
}

function isReserved(ch: string): boolean {
  return isSpace(ch) || '{}!=~,\\"\'`'.includes(ch);
}

class Lexer {
  private readonly cps: string[];
  private err: MatcherError | undefined;
  private start = 0;
  private pos = 0;
  private width = 0;
  private column = 0;
  private cols = 0;

  constructor(input: string) {
    this.cps = Array.from(input);
  }

  get length(): number {
    return this.cps.length;
  }

  scan(): Token {
    if (this.err) throw this.err;
    for (let r = this.next(); r !== EOF; r = this.next()) {
      if (r === '{' || r === '}' || r === ',') return this.emit(r);
      if (r === '=' || r === '!') {
        this.rewind();
        return this.guard(() => this.scanOperator());
      }
      if (r === '"') {
        this.rewind();
        return this.guard(() => this.scanQuoted());
      }
      if (!isReserved(r)) {
        this.rewind();
        return this.scanUnquoted();
      }
      if (isSpace(r)) {
        this.skip();
        continue;
      }
      this.err = new MatcherError(
        `${this.position().colStart}:${this.position().colEnd}: ${this.text(this.position())}: invalid input`,
      );
      throw this.err;
    }
    return { kind: 'eof', value: '', ...this.position() };
  }

  peek(): Token {
    const saved = [this.start, this.pos, this.width, this.column, this.cols] as const;
    try {
      return this.scan();
    } finally {
      [this.start, this.pos, this.width, this.column, this.cols] = saved;
    }
  }

  position(): Position {
    return { start: this.start, end: this.pos, colStart: this.column, colEnd: this.cols };
  }

  private guard(f: () => Token): Token {
    try {
      return f();
    } catch (e) {
      if (e instanceof MatcherError) this.err = e;
      throw e;
    }
  }

  private text(p: Position): string {
    return this.cps.slice(p.start, p.end).join('');
  }

  private expectedError(expected: string): MatcherError {
    const p = this.position();
    if (p.end >= this.cps.length) {
      return new MatcherError(`${p.colStart}:${p.colEnd}: unexpected end of input, expected one of '${expected}'`);
    }
    return new MatcherError(`${p.colStart}:${p.colEnd}: ${this.text(p)}: expected one of '${expected}'`);
  }

  private scanOperator(): Token {
    if (this.accept('!')) {
      if (this.accept('=')) return this.emit('!=');
      if (this.accept('~')) return this.emit('!~');
      throw this.expectedError('=~');
    }
    if (this.accept('=')) {
      if (this.accept('~')) return this.emit('=~');
      return this.emit('=');
    }
    throw this.expectedError('!=');
  }

  private scanQuoted(): Token {
    if (!this.accept('"')) throw this.expectedError('"');
    let escaped = false;
    for (let r = this.next(); r !== EOF; r = this.next()) {
      if (escaped) escaped = false;
      else if (r === '\\') escaped = true;
      else if (r === '"') {
        this.rewind();
        break;
      }
    }
    if (!this.accept('"')) {
      const p = this.position();
      throw new MatcherError(`${p.colStart}:${p.colEnd}: ${this.text(p)}: missing end "`);
    }
    return this.emit('quoted');
  }

  private scanUnquoted(): Token {
    for (let r = this.next(); r !== EOF; r = this.next()) {
      if (isReserved(r)) {
        this.rewind();
        break;
      }
    }
    return this.emit('unquoted');
  }

  private accept(valid: string): boolean {
    const r = this.next();
    if (r !== EOF && valid.includes(r)) return true;
    this.rewind();
    return false;
  }

  private emit(kind: TokenKind): Token {
    const p = this.position();
    const t: Token = { kind, value: this.text(p), ...p };
    this.start = this.pos;
    this.column = this.cols;
    return t;
  }

  private next(): string {
    if (this.pos >= this.cps.length) {
      this.width = 0;
      return EOF;
    }
    this.width = 1;
    this.pos++;
    this.cols++;
    return this.cps[this.pos - 1];
  }

  private rewind(): void {
    this.pos -= this.width;
    if (this.width > 0) this.cols--;
  }

  private skip(): void {
    this.start = this.pos;
    this.column = this.cols;
  }
}

/** Go's strconv.Unquote for a double-quoted literal, then a UTF-8 validity check. */
export function goUnquote(lit: string): string {
  if (lit.length < 2 || !lit.startsWith('"') || !lit.endsWith('"')) throw new Error('invalid syntax');
  const body = Array.from(lit.slice(1, -1));
  const bytes: number[] = [];
  const enc = new TextEncoder();
  const pushText = (s: string): void => {
    bytes.push(...enc.encode(s));
  };
  const hex = (n: number, i: number): number => {
    const h = body.slice(i, i + n).join('');
    if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) throw new Error('invalid syntax');
    return parseInt(h, 16);
  };
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === '"' || ch === '\n') throw new Error('invalid syntax');
    if (ch !== '\\') {
      pushText(ch);
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = {
      a: '\x07',
      b: '\b',
      f: '\f',
      n: '\n',
      r: '\r',
      t: '\t',
      v: '\v',
      '\\': '\\',
      '"': '"',
    };
    if (e !== undefined && simple[e] !== undefined) {
      pushText(simple[e]);
    } else if (e === 'x') {
      bytes.push(hex(2, i + 1));
      i += 2;
    } else if (e === 'u' || e === 'U') {
      const n = e === 'u' ? 4 : 8;
      const cp = hex(n, i + 1);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) throw new Error('invalid syntax');
      pushText(String.fromCodePoint(cp));
      i += n;
    } else if (e !== undefined && e >= '0' && e <= '7') {
      const oct = body.slice(i, i + 3).join('');
      if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) throw new Error('invalid syntax');
      bytes.push(parseInt(oct, 8));
      i += 2;
    } else {
      throw new Error('invalid syntax');
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    throw new Error('quoted string contains invalid UTF-8 code points');
  }
}

class EofSignal extends Error {}

type Step = () => Step | null;

class Parser {
  private readonly matchers: Matcher[] = [];
  private hasOpenBrace = false;

  constructor(private readonly l: Lexer) {}

  parse(): Matcher[] {
    let fn: Step | null = () => this.parseOpenBrace();
    while (fn) fn = fn();
    return this.matchers;
  }

  private peekKinds(kinds: TokenKind[]): Token {
    const t = this.l.peek();
    if (t.kind === 'eof') throw new EofSignal();
    if (!kinds.includes(t.kind)) throw new MatcherError(`${t.colStart}:${t.colEnd}: unexpected ${t.value}`);
    return t;
  }

  private expect(kinds: TokenKind[]): Token {
    const t = this.peekKinds(kinds);
    this.l.scan();
    return t;
  }

  private wrap<T>(f: () => T, reason: string): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof EofSignal) throw new MatcherError(`end of input: ${reason}`);
      if (e instanceof MatcherError) throw new MatcherError(`${e.message}: ${reason}`);
      throw e;
    }
  }

  private parseOpenBrace(): Step | null {
    const first = this.l.peek();
    if (first.kind === 'eof') return () => this.parseEof();
    this.hasOpenBrace = first.kind === '{';
    if (this.hasOpenBrace) this.l.scan();
    const next = this.l.peek();
    if (next.kind === 'eof' || next.kind === '}') return () => this.parseCloseBrace();
    return () => this.parseMatcher();
  }

  private parseCloseBrace(): Step | null {
    if (this.hasOpenBrace) {
      try {
        this.expect(['}']);
      } catch (e) {
        const col = this.l.position().colEnd;
        const inner = e instanceof EofSignal ? 'end of input' : (e as Error).message;
        throw new MatcherError(`0:${col}: ${inner}: expected close brace`);
      }
    } else {
      let closed = false;
      try {
        this.expect(['}']);
        closed = true;
      } catch (e) {
        if (!(e instanceof EofSignal || e instanceof MatcherError)) throw e;
      }
      if (closed) throw new MatcherError(`0:${this.l.position().colEnd}: }: expected opening brace`);
    }
    return () => this.parseEof();
  }

  private parseMatcher(): Step | null {
    const nameTok = this.wrap(() => this.expect(['quoted', 'unquoted']), 'expected label name');
    const name = this.unquote(nameTok);
    const op = this.wrap(
      () => this.expect(['=', '!=', '=~', '!~']),
      "expected an operator such as '=', '!=', '=~' or '!~'",
    );
    const valueTok = this.wrap(() => this.expect(['unquoted', 'quoted']), 'expected label value');
    const value = this.unquote(valueTok);
    try {
      this.matchers.push(newMatcher(op.kind as MatchType, name, value));
    } catch (e) {
      if (e instanceof GoRegexpError) throw new MatcherError(`failed to create matcher: ${e.message}`);
      throw e;
    }
    return () => this.parseEndOfMatcher();
  }

  private unquote(t: Token): string {
    if (t.kind !== 'quoted') return t.value;
    try {
      return goUnquote(t.value);
    } catch {
      throw new MatcherError(`${t.colStart}:${t.colEnd}: ${t.value}: invalid input`);
    }
  }

  private parseEndOfMatcher(): Step | null {
    let t: Token;
    try {
      t = this.peekKinds([',', '}']);
    } catch (e) {
      if (e instanceof EofSignal) return () => this.parseCloseBrace();
      throw new MatcherError(`${(e as Error).message}: expected a comma or close brace`);
    }
    return t.kind === ',' ? () => this.parseComma() : () => this.parseCloseBrace();
  }

  private parseComma(): Step | null {
    this.wrap(() => this.expect([',']), 'expected a comma');
    let t: Token;
    try {
      t = this.peekKinds(['}', 'unquoted', 'quoted']);
    } catch (e) {
      if (e instanceof EofSignal) return () => this.parseCloseBrace();
      throw new MatcherError(`${(e as Error).message}: expected a matcher or close brace after comma`);
    }
    return t.kind === '}' ? () => this.parseCloseBrace() : () => this.parseMatcher();
  }

  private parseEof(): null {
    let t: Token;
    try {
      t = this.l.scan();
    } catch (e) {
      throw new MatcherError(`${(e as Error).message}: expected end of input`);
    }
    if (t.kind !== 'eof') throw new MatcherError(`${t.colStart}:${t.colEnd}: ${t.value}: expected end of input`);
    return null;
  }
}

/** One or more matchers (`{a="b", c=~"d"}`, braces optional); throws MatcherError. */
export function parseUtf8Matchers(input: string): Matcher[] {
  return new Parser(new Lexer(input)).parse();
}

/** Exactly one matcher; throws MatcherError. */
export function parseUtf8Matcher(input: string): Matcher {
  const ms = parseUtf8Matchers(input);
  if (ms.length === 1) return ms[0];
  if (ms.length === 0) throw new MatcherError('no matchers');
  throw new MatcherError(`expected 1 matcher, found ${ms.length}`);
}
