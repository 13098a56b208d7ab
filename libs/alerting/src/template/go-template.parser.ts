/**
 * A parser for the part of Go's text/template that Prometheus rule templates use: text, actions
 * with trim markers, comments, pipelines with `|`, variables (declared before use, as Go checks at
 * parse time), fields, literals, parenthesised pipelines, if / else if / else, with, range (with
 * one or two variables), define / template. Errors read like Go's: `template: NAME:LINE: …`.
 */

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

export type Operand =
  | { kind: 'dot' }
  | { kind: 'field'; base: Operand | undefined; names: string[] }
  | { kind: 'variable'; name: string; names: string[] }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number | bigint }
  | { kind: 'bool'; value: boolean }
  | { kind: 'nil' }
  | { kind: 'func'; name: string }
  | { kind: 'pipe'; pipe: Pipeline; names: string[] };

export interface Command {
  args: Operand[];
}

export interface Pipeline {
  decl: string[];
  /** `=` assigns to an existing variable rather than declaring one. */
  assign: boolean;
  cmds: Command[];
  line: number;
}

export type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with'; pipe: Pipeline; then: Node[]; else: Node[] | undefined }
  | { kind: 'range'; pipe: Pipeline; body: Node[]; else: Node[] | undefined }
  | { kind: 'template'; name: string; pipe: Pipeline | undefined; line: number }
  | { kind: 'break' | 'continue' };

export interface ParsedTemplate {
  root: Node[];
  defines: Map<string, Node[]>;
}

/** Functions the parser accepts by name (Go rejects unknown functions at parse time). */
export type FunctionNames = ReadonlySet<string>;

type Tok =
  | { t: 'ident'; v: string }
  | { t: 'field'; v: string }
  | { t: 'var'; v: string }
  | { t: 'string'; v: string }
  | { t: 'number'; v: string }
  | { t: 'char'; v: string }
  | { t: 'declare' }
  | { t: 'assign' }
  | { t: 'pipe' }
  | { t: 'lparen' }
  | { t: 'rparen' }
  | { t: 'comma' }
  | { t: 'dot' }
  | { t: 'space' };

interface Segment {
  kind: 'text' | 'action';
  text: string;
  line: number;
}

/** Splits the source into text and action segments, applying `{{-` / `-}}` trimming. */
function segments(src: string, fail: (line: number, msg: string) => never): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  let line = 1;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push({ kind: 'text', text: src.slice(i), line });
      break;
    }
    let text = src.slice(i, open);
    let j = open + 2;
    const trimLeft = src[j] === '-' && /\s/.test(src[j + 1] ?? '');
    if (trimLeft) {
      text = text.replace(/\s+$/, '');
      j += 1;
    }
    out.push({ kind: 'text', text, line });
    line += (src.slice(i, open).match(/\n/g) ?? []).length;
    // Find the closing delimiter outside quoted strings.
    let k = j;
    let quote = '';
    for (; k < src.length; k++) {
      const c = src[k];
      if (quote) {
        if (c === '\\' && quote !== '`') k++;
        else if (c === quote) quote = '';
        continue;
      }
      if (c === '"' || c === '`' || c === "'") quote = c;
      else if (c === '}' && src[k + 1] === '}') break;
      else if (c === '/' && src[k + 1] === '*') {
        const end = src.indexOf('*/', k + 2);
        if (end < 0) fail(line, 'unclosed comment');
        k = end + 1;
      }
    }
    if (k >= src.length) fail(line, quote ? 'unterminated quoted string' : 'unclosed action');
    let body = src.slice(j, k);
    let after = k + 2;
    const trimRight = body.length >= 2 && body.endsWith('-') && /\s/.test(body[body.length - 2]);
    if (trimRight) body = body.slice(0, -1);
    out.push({ kind: 'action', text: body, line });
    line += (body.match(/\n/g) ?? []).length;
    if (trimRight) {
      const m = /^\s*/.exec(src.slice(after)) as RegExpExecArray;
      line += (m[0].match(/\n/g) ?? []).length;
      after += m[0].length;
    }
    i = after;
  }
  return out;
}

function lex(body: string, line: number, fail: (line: number, msg: string) => never): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i];
    if (/\s/.test(c)) {
      while (i < body.length && /\s/.test(body[i])) i++;
      toks.push({ t: 'space' });
      continue;
    }
    if (c === '/' && body[i + 1] === '*') {
      const end = body.indexOf('*/', i + 2);
      i = end + 2;
      continue;
    }
    if (c === ':' && body[i + 1] === '=') {
      toks.push({ t: 'declare' });
      i += 2;
      continue;
    }
    if (c === '=') {
      toks.push({ t: 'assign' });
      i++;
      continue;
    }
    if (c === '|') {
      toks.push({ t: 'pipe' });
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      toks.push({ t: c === '(' ? 'lparen' : c === ')' ? 'rparen' : 'comma' });
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < body.length && body[j] !== '"') j += body[j] === '\\' ? 2 : 1;
      if (j >= body.length) fail(line, 'unterminated quoted string');
      toks.push({ t: 'string', v: JSON.parse(body.slice(i, j + 1).replace(/\\'/g, "'")) as string });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = body.indexOf('`', i + 1);
      if (j < 0) fail(line, 'unterminated raw quoted string');
      toks.push({ t: 'string', v: body.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    if (c === "'") {
      const j = body.indexOf("'", i + 1);
      toks.push({ t: 'char', v: body.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(body.slice(i)) as RegExpExecArray;
      toks.push({ t: 'var', v: m[0] });
      i += m[0].length;
      continue;
    }
    if (c === '.') {
      const m = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(body.slice(i));
      if (m) {
        toks.push({ t: 'field', v: m[0].slice(1) });
        i += m[0].length;
      } else if (/[0-9]/.test(body[i + 1] ?? '')) {
        const n = /^\.[0-9]+([eE][-+]?[0-9]+)?/.exec(body.slice(i)) as RegExpExecArray;
        toks.push({ t: 'number', v: n[0] });
        i += n[0].length;
      } else {
        toks.push({ t: 'dot' });
        i++;
      }
      continue;
    }
    const num = /^[-+]?(0[xX][0-9a-fA-F_]+|[0-9][0-9_]*(\.[0-9]*)?([eE][-+]?[0-9]+)?)/.exec(body.slice(i));
    if (num && (/[0-9]/.test(c) || ((c === '-' || c === '+') && /[0-9.]/.test(body[i + 1] ?? '')))) {
      toks.push({ t: 'number', v: num[0] });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(body.slice(i));
    if (id) {
      toks.push({ t: 'ident', v: id[0] });
      i += id[0].length;
      continue;
    }
    fail(line, `unexpected ${JSON.stringify(c)} in command`);
  }
  return toks;
}

const BUILTIN_KEYWORDS = new Set([
  'if',
  'else',
  'end',
  'with',
  'range',
  'define',
  'template',
  'block',
  'break',
  'continue',
]);

class Parser {
  private readonly scopes: Set<string>[] = [new Set(['$'])];
  readonly defines = new Map<string, Node[]>();

  constructor(
    private readonly name: string,
    private readonly funcs: FunctionNames,
  ) {}

  fail(line: number, msg: string): never {
    throw new TemplateError(`template: ${this.name}:${line}: ${msg}`);
  }

  private declared(v: string): boolean {
    return this.scopes.some((s) => s.has(v));
  }

  parse(src: string): Node[] {
    const segs = segments(src, (l, m) => this.fail(l, m));
    let pos = 0;
    const block = (stopAt: ReadonlySet<string>): { nodes: Node[]; stop: string; rest: Tok[]; line: number } => {
      const nodes: Node[] = [];
      while (pos < segs.length) {
        const seg = segs[pos++];
        if (seg.kind === 'text') {
          if (seg.text) nodes.push({ kind: 'text', text: seg.text });
          continue;
        }
        const toks = lex(seg.text, seg.line, (l, m) => this.fail(l, m)).filter(
          (t, i, a) => !(t.t === 'space' && (i === 0 || i === a.length - 1)),
        );
        if (toks.length === 0) {
          if (seg.text.trim().startsWith('/*')) continue;
          this.fail(seg.line, 'missing value for command');
        }
        const head = toks[0];
        const word = head.t === 'ident' && BUILTIN_KEYWORDS.has(head.v) ? head.v : '';
        const rest = toks.slice(1).filter((t, i) => !(i === 0 && t.t === 'space'));
        if (word === 'end' || word === 'else') {
          if (!stopAt.has(word)) this.fail(seg.line, `unexpected {{${word}}}`);
          return { nodes, stop: word, rest, line: seg.line };
        }
        if (word === 'if' || word === 'with') {
          nodes.push(this.conditional(word, rest, seg.line, block));
          continue;
        }
        if (word === 'range') {
          this.scopes.push(new Set());
          const pipe = this.pipeline(rest, seg.line, true);
          const body = block(new Set(['end', 'else']));
          let elseNodes: Node[] | undefined;
          if (body.stop === 'else') elseNodes = block(new Set(['end'])).nodes;
          this.scopes.pop();
          nodes.push({ kind: 'range', pipe, body: body.nodes, else: elseNodes });
          continue;
        }
        if (word === 'define' || word === 'block') {
          const nameTok = rest.find((t) => t.t === 'string');
          if (!nameTok || nameTok.t !== 'string') this.fail(seg.line, `${word} clause needs a name`);
          const saved = this.scopes.splice(0);
          this.scopes.push(new Set(['$']));
          const body = block(new Set(['end']));
          this.scopes.splice(0, this.scopes.length, ...saved);
          this.defines.set(nameTok.v, body.nodes);
          if (word === 'block') nodes.push({ kind: 'template', name: nameTok.v, pipe: undefined, line: seg.line });
          continue;
        }
        if (word === 'template') {
          const nameTok = rest[0];
          if (!nameTok || nameTok.t !== 'string') this.fail(seg.line, 'template clause needs a quoted name');
          const more = rest.slice(1).filter((t, i) => !(i === 0 && t.t === 'space'));
          nodes.push({
            kind: 'template',
            name: nameTok.v,
            pipe: more.length ? this.pipeline(more, seg.line, false) : undefined,
            line: seg.line,
          });
          continue;
        }
        if (word === 'break' || word === 'continue') {
          nodes.push({ kind: word });
          continue;
        }
        nodes.push({ kind: 'action', pipe: this.pipeline(toks, seg.line, false) });
      }
      if (stopAt.size > 0) this.fail(segs[segs.length - 1]?.line ?? 1, 'unexpected EOF');
      return { nodes, stop: '', rest: [], line: 0 };
    };
    return block(new Set()).nodes;
  }

  private conditional(
    word: 'if' | 'with',
    rest: Tok[],
    line: number,
    block: (stopAt: ReadonlySet<string>) => { nodes: Node[]; stop: string; rest: Tok[]; line: number },
  ): Node {
    // A variable lives until the control structure's {{end}}, else branches included.
    this.scopes.push(new Set());
    const pipe = this.pipeline(rest, line, false);
    const body = block(new Set(['end', 'else']));
    let elseNodes: Node[] | undefined;
    if (body.stop === 'else') {
      const chained = body.rest[0];
      if (chained && chained.t === 'ident' && (chained.v === 'if' || chained.v === 'with')) {
        const inner = body.rest.slice(1).filter((t, i) => !(i === 0 && t.t === 'space'));
        elseNodes = [this.conditional(chained.v, inner, body.line, block)];
      } else {
        elseNodes = block(new Set(['end'])).nodes;
      }
    }
    this.scopes.pop();
    return { kind: word, pipe, then: body.nodes, else: elseNodes };
  }

  private pipeline(toks: Tok[], line: number, rangeDecl: boolean): Pipeline {
    let i = 0;
    const skip = (): void => {
      while (toks[i]?.t === 'space') i++;
    };
    const decl: string[] = [];
    let assign = false;
    // `$x :=`, `$x =`, or in range `$i, $v :=`
    const look = toks.filter((t) => t.t !== 'space');
    const declAt = look.findIndex((t) => t.t === 'declare' || t.t === 'assign');
    if (declAt > 0 && look.slice(0, declAt).every((t) => t.t === 'var' || t.t === 'comma')) {
      const vars = look.slice(0, declAt).filter((t) => t.t === 'var') as { t: 'var'; v: string }[];
      if (vars.length > (rangeDecl ? 2 : 1)) this.fail(line, 'too many declarations in command');
      assign = look[declAt].t === 'assign';
      for (const v of vars) decl.push(v.v);
      let seen = 0;
      while (seen <= declAt) {
        if (toks[i].t !== 'space') seen++;
        i++;
      }
    }
    const cmds: Command[] = [];
    let args: Operand[] = [];
    const endCmd = (): void => {
      if (args.length === 0) this.fail(line, 'missing value for command');
      cmds.push({ args });
      args = [];
    };
    for (;;) {
      skip();
      if (i >= toks.length) break;
      const t = toks[i];
      if (t.t === 'pipe') {
        endCmd();
        i++;
        continue;
      }
      if (t.t === 'rparen') this.fail(line, 'unexpected right paren');
      const { op, next } = this.operand(toks, i, line);
      args.push(op);
      i = next;
      if (i < toks.length && toks[i].t !== 'space' && toks[i].t !== 'pipe' && toks[i].t !== 'rparen') {
        this.fail(line, 'missing space?');
      }
    }
    endCmd();
    for (const c of cmds.slice(1)) {
      const f = c.args[0];
      if (f.kind !== 'func' && f.kind !== 'field' && f.kind !== 'variable')
        this.fail(line, `non executable command in pipeline stage ${cmds.indexOf(c) + 1}`);
    }
    if (assign) {
      for (const d of decl) if (!this.declared(d)) this.fail(line, `undefined variable "${d}"`);
    } else {
      const scope = this.scopes[this.scopes.length - 1];
      for (const d of decl) scope.add(d);
    }
    return { decl, assign, cmds, line };
  }

  private fieldChain(toks: Tok[], i: number): { names: string[]; next: number } {
    const names: string[] = [];
    while (toks[i]?.t === 'field') {
      names.push((toks[i] as { v: string }).v);
      i++;
    }
    return { names, next: i };
  }

  private operand(toks: Tok[], i: number, line: number): { op: Operand; next: number } {
    const t = toks[i];
    switch (t.t) {
      case 'dot':
        return { op: { kind: 'dot' }, next: i + 1 };
      case 'field': {
        const { names, next } = this.fieldChain(toks, i);
        return { op: { kind: 'field', base: undefined, names }, next };
      }
      case 'var': {
        if (!this.declared(t.v)) this.fail(line, `undefined variable "${t.v}"`);
        const { names, next } = this.fieldChain(toks, i + 1);
        return { op: { kind: 'variable', name: t.v, names }, next };
      }
      case 'string':
        return { op: { kind: 'string', value: t.v }, next: i + 1 };
      case 'char':
        return { op: { kind: 'number', value: BigInt(t.v.codePointAt(0) ?? 0) }, next: i + 1 };
      case 'number': {
        const text = t.v.replace(/_/g, '');
        const isFloat = /[.eE]/.test(text) && !/^[-+]?0[xX]/.test(text);
        if (isFloat) return { op: { kind: 'number', value: Number(text) }, next: i + 1 };
        const neg = text.startsWith('-');
        const body = text.replace(/^[-+]/, '');
        const big = BigInt(body);
        return { op: { kind: 'number', value: neg ? -big : big }, next: i + 1 };
      }
      case 'ident': {
        if (t.v === 'true' || t.v === 'false') return { op: { kind: 'bool', value: t.v === 'true' }, next: i + 1 };
        if (t.v === 'nil') return { op: { kind: 'nil' }, next: i + 1 };
        if (!this.funcs.has(t.v)) this.fail(line, `function "${t.v}" not defined`);
        return { op: { kind: 'func', name: t.v }, next: i + 1 };
      }
      case 'lparen': {
        let depth = 1;
        let j = i + 1;
        for (; j < toks.length && depth > 0; j++) {
          if (toks[j].t === 'lparen') depth++;
          else if (toks[j].t === 'rparen') depth--;
        }
        if (depth > 0) this.fail(line, 'unclosed left paren');
        const inner = toks.slice(i + 1, j - 1);
        const pipe = this.pipeline(inner, line, false);
        const { names, next } = this.fieldChain(toks, j);
        return { op: { kind: 'pipe', pipe, names }, next };
      }
      default:
        return this.fail(line, `unexpected ${t.t} in operand`);
    }
  }
}

export function parseTemplate(src: string, name: string, funcs: FunctionNames): ParsedTemplate {
  const p = new Parser(name, funcs);
  const root = p.parse(src);
  return { root, defines: p.defines };
}
