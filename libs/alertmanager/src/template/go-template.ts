/**
 * A subset of Go's text/template, enough for Alertmanager's default notification templates and
 * the usual custom ones: actions with trim markers, comments, `define` / `template` / `block`,
 * `if` / `else if` / `else`, `range` (with `$i, $x :=` and `else`), `with`, variables, pipelines,
 * parenthesised calls, field and method access on data, and the functions Alertmanager adds.
 */
export class TemplateError extends Error {
  readonly code = 'TEMPLATE_INVALID' as const;
}

type Node =
  | { t: 'text'; text: string }
  | { t: 'action'; pipe: Pipe }
  | { t: 'if' | 'with'; pipe: Pipe; body: Node[]; else: Node[] }
  | { t: 'range'; pipe: Pipe; body: Node[]; else: Node[] }
  | { t: 'template'; name: string; pipe: Pipe | undefined };

interface Pipe {
  decl: string[];
  assign: boolean;
  cmds: Expr[][];
}

type Expr =
  | { t: 'field'; base: 'dot' | string | Expr; names: string[] }
  | { t: 'ident'; name: string }
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'nil' }
  | { t: 'paren'; pipe: Pipe; names: string[] };

type Tok = { k: 'str' | 'num' | 'word' | 'field' | 'var' | 'punct'; v: string };

function lexAction(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new TemplateError('unterminated quoted string');
      toks.push({ k: 'str', v: JSON.parse(src.slice(i, j + 1).replace(/\\'/g, "'")) as string });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw new TemplateError('unterminated raw quoted string');
      toks.push({ k: 'str', v: src.slice(i + 1, j) });
      i = j + 1;
    } else if (c === "'") {
      const j = src.indexOf("'", i + 1);
      toks.push({ k: 'num', v: String(src.slice(i + 1, j).codePointAt(0)) });
      i = j + 1;
    } else if (/[-+0-9]/.test(c) && /^[-+]?\d/.test(src.slice(i))) {
      const m = /^[-+]?(0x[0-9a-fA-F]+|\d+(\.\d+)?([eE][-+]?\d+)?)/.exec(src.slice(i)) as RegExpExecArray;
      toks.push({ k: 'num', v: m[0] });
      i += m[0].length;
    } else if (c === '.' || c === '$') {
      const m = /^(\$[A-Za-z0-9_]*|\.)((?:\.?[A-Za-z_][A-Za-z0-9_]*)*)/.exec(src.slice(i)) as RegExpExecArray;
      if (c === '$') {
        toks.push({ k: 'var', v: m[1] });
        if (m[2]) toks.push({ k: 'field', v: m[2].startsWith('.') ? m[2] : `.${m[2]}` });
      } else {
        toks.push({ k: 'field', v: m[0] });
      }
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i)) as RegExpExecArray;
      toks.push({ k: 'word', v: m[0] });
      i += m[0].length;
    } else if (src.startsWith(':=', i)) {
      toks.push({ k: 'punct', v: ':=' });
      i += 2;
    } else if ('|(),='.includes(c)) {
      toks.push({ k: 'punct', v: c });
      i++;
    } else {
      throw new TemplateError(`unexpected ${JSON.stringify(c)} in action`);
    }
  }
  return toks;
}

class PipeParser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  done(): boolean {
    return this.i >= this.toks.length;
  }

  peek(): Tok | undefined {
    return this.toks[this.i];
  }

  pipe(stopAt?: string): Pipe {
    const decl: string[] = [];
    let assign = false;
    const save = this.i;
    while (this.toks[this.i]?.k === 'var') {
      decl.push(this.toks[this.i].v);
      this.i++;
      if (this.toks[this.i]?.v === ',') {
        this.i++;
        continue;
      }
      break;
    }
    const op = this.toks[this.i]?.v;
    if (decl.length > 0 && (op === ':=' || op === '=')) {
      assign = op === '=';
      this.i++;
    } else {
      decl.length = 0;
      this.i = save;
    }
    const cmds: Expr[][] = [[]];
    while (!this.done() && this.peek()?.v !== stopAt) {
      const t = this.peek() as Tok;
      if (t.k === 'punct' && t.v === '|') {
        this.i++;
        cmds.push([]);
        continue;
      }
      cmds[cmds.length - 1].push(this.operand());
    }
    if (cmds.some((c) => c.length === 0)) throw new TemplateError('missing command in pipeline');
    return { decl, assign, cmds };
  }

  private operand(): Expr {
    const t = this.toks[this.i++];
    switch (t.k) {
      case 'str':
        return { t: 'str', v: t.v };
      case 'num':
        return { t: 'num', v: Number(t.v) };
      case 'field':
        return { t: 'field', base: 'dot', names: t.v === '.' ? [] : t.v.slice(1).split('.') };
      case 'var': {
        const next = this.toks[this.i];
        if (next?.k === 'field' && next.v !== '.') {
          this.i++;
          return { t: 'field', base: t.v, names: next.v.slice(1).split('.') };
        }
        return { t: 'field', base: t.v, names: [] };
      }
      case 'word':
        if (t.v === 'true' || t.v === 'false') return { t: 'bool', v: t.v === 'true' };
        if (t.v === 'nil') return { t: 'nil' };
        return { t: 'ident', name: t.v };
      default:
        if (t.v === '(') {
          const pipe = this.pipe(')');
          if (this.toks[this.i++]?.v !== ')') throw new TemplateError('unclosed left paren');
          const next = this.toks[this.i];
          let names: string[] = [];
          if (next?.k === 'field' && next.v !== '.') {
            this.i++;
            names = next.v.slice(1).split('.');
          }
          return { t: 'paren', pipe, names };
        }
        throw new TemplateError(`unexpected ${JSON.stringify(t.v)} in operand`);
    }
  }
}

interface RawAction {
  text: string;
}

function tokenize(src: string): (string | RawAction)[] {
  const out: (string | RawAction)[] = [];
  let i = 0;
  let pendingTrim = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (pendingTrim) text = text.replace(/^\s+/, '');
    if (open < 0) {
      out.push(text);
      break;
    }
    let body = src.slice(open + 2);
    const trimLeft = /^- /.test(body) || body.startsWith('-\n') || body.startsWith('-\t');
    if (trimLeft) text = text.replace(/\s+$/, '');
    out.push(text);
    const close = src.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError('unclosed action');
    body = src.slice(open + 2 + (trimLeft ? 1 : 0), close);
    pendingTrim = /\s-$/.test(body);
    if (pendingTrim) body = body.slice(0, -1);
    const trimmed = body.trim();
    if (trimmed.startsWith('/*')) {
      if (!trimmed.endsWith('*/')) throw new TemplateError('unclosed comment');
    } else {
      out.push({ text: trimmed });
    }
    i = close + 2;
  }
  return out;
}

export class TemplateSet {
  private readonly defs = new Map<string, Node[]>();

  /** Parses template text, adding its `define`s; the text outside defines is named `name`. */
  parse(name: string, src: string): this {
    const parts = tokenize(src);
    let pos = 0;
    const parseList = (ends: string[]): { nodes: Node[]; end: string; endArg: string } => {
      const nodes: Node[] = [];
      while (pos < parts.length) {
        const p = parts[pos++];
        if (typeof p === 'string') {
          if (p !== '') nodes.push({ t: 'text', text: p });
          continue;
        }
        const word = /^([a-z]+)\b\s*([\s\S]*)$/.exec(p.text);
        const kw = word?.[1] ?? '';
        const rest = word?.[2] ?? '';
        if (kw === 'end' || kw === 'else') {
          if (!ends.includes(kw)) throw new TemplateError(`unexpected {{${kw}}}`);
          return { nodes, end: kw, endArg: rest };
        }
        if (kw === 'if' || kw === 'with' || kw === 'range') {
          nodes.push(parseControl(kw, rest));
        } else if (kw === 'define' || kw === 'block') {
          const toks = lexAction(rest);
          if (toks[0]?.k !== 'str') throw new TemplateError(`${kw} needs a quoted name`);
          const body = parseList(['end']);
          this.defs.set(toks[0].v, body.nodes);
          if (kw === 'block') {
            const pp = new PipeParser(toks.slice(1));
            nodes.push({ t: 'template', name: toks[0].v, pipe: pp.done() ? undefined : pp.pipe() });
          }
        } else if (kw === 'template') {
          const toks = lexAction(rest);
          if (toks[0]?.k !== 'str') throw new TemplateError('template needs a quoted name');
          const pp = new PipeParser(toks.slice(1));
          nodes.push({ t: 'template', name: toks[0].v, pipe: pp.done() ? undefined : pp.pipe() });
        } else {
          const pp = new PipeParser(lexAction(p.text));
          nodes.push({ t: 'action', pipe: pp.pipe() });
        }
      }
      if (ends.length > 0) throw new TemplateError(`unexpected EOF, expected {{${ends.join('|')}}}`);
      return { nodes, end: '', endArg: '' };
    };
    const parseControl = (kw: 'if' | 'with' | 'range', rest: string): Node => {
      const pipe = new PipeParser(lexAction(rest)).pipe();
      const body = parseList(['end', 'else']);
      let elseNodes: Node[] = [];
      if (body.end === 'else') {
        const chained = /^(if|with)\b\s*([\s\S]*)$/.exec(body.endArg);
        if (chained && kw !== 'range') {
          elseNodes = [parseControl(chained[1] as 'if' | 'with', chained[2])];
        } else {
          elseNodes = parseList(['end']).nodes;
        }
      }
      return kw === 'range'
        ? { t: 'range', pipe, body: body.nodes, else: elseNodes }
        : { t: kw, pipe, body: body.nodes, else: elseNodes };
    };
    const top = parseList([]);
    if (top.nodes.some((n) => n.t !== 'text' || n.text.trim() !== '') || !this.defs.has(name))
      this.defs.set(name, top.nodes);
    return this;
  }

  has(name: string): boolean {
    return this.defs.has(name);
  }

  /** Executes template `name` with `data`. */
  execute(name: string, data: unknown, funcs: Record<string, TemplateFunc> = {}): string {
    const nodes = this.defs.get(name);
    if (!nodes) throw new TemplateError(`no such template ${JSON.stringify(name)}`);
    return new Exec(this.defs, { ...BUILTINS, ...funcs }).run(nodes, data);
  }

  /** Parses `src` as an anonymous template and executes it (e.g. a `title:` field of a receiver). */
  executeText(src: string, data: unknown, funcs: Record<string, TemplateFunc> = {}): string {
    const name = `__inline_${src.length}_${hash(src)}`;
    if (!this.defs.has(name)) this.parse(name, src);
    return this.execute(name, data, funcs);
  }
}

function hash(s: string): string {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return (h >>> 0).toString(36);
}

export type TemplateFunc = (...args: unknown[]) => unknown;

function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0 || !(Object.getPrototypeOf(v) === Object.prototype);
  return true;
}

function lenOf(v: unknown): number {
  if (typeof v === 'string') return new TextEncoder().encode(v).length;
  if (Array.isArray(v)) return v.length;
  if (v instanceof Map) return v.size;
  if (v && typeof v === 'object') return Object.keys(v).length;
  throw new TemplateError(`len of ${typeof v}`);
}

function toText(v: unknown): string {
  if (v === null || v === undefined) return '<no value>';
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return `[${v.map(toText).join(' ')}]`;
  if (typeof v === 'object') {
    const s = (v as { toString?: () => string }).toString?.();
    if (s && s !== '[object Object]') return s;
    return `map[${Object.entries(v)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, x]) => `${k}:${toText(x)}`)
      .join(' ')}]`;
  }
  return String(v);
}

function goSprintf(format: string, args: unknown[]): string {
  let i = 0;
  return format.replace(
    /%([-+ #0]*)(\d*)(?:\.(\d+))?([vsdqfgxt%])/g,
    (_m, _flags: string, width: string, prec: string | undefined, verb: string) => {
      if (verb === '%') return '%';
      const a = args[i++];
      let s: string;
      switch (verb) {
        case 'd':
          s = String(Math.trunc(Number(a)));
          break;
        case 'f':
          s = Number(a).toFixed(prec === undefined ? 6 : Number(prec));
          break;
        case 'g':
          s = String(Number(a));
          break;
        case 'q':
          s = JSON.stringify(toText(a));
          break;
        case 'x':
          s = typeof a === 'number' ? a.toString(16) : Buffer.from(toText(a)).toString('hex');
          break;
        case 't':
          s = String(Boolean(a));
          break;
        default:
          s = toText(a);
      }
      return width ? s.padStart(Number(width)) : s;
    },
  );
}

const eqValues = (a: unknown, b: unknown): boolean =>
  a === b || (typeof a === 'number' && typeof b === 'number' && a === b);

export const BUILTINS: Record<string, TemplateFunc> = {
  len: (v) => lenOf(v),
  eq: (a, ...bs) => bs.some((b) => eqValues(a, b)),
  ne: (a, b) => !eqValues(a, b),
  lt: (a, b) => (a as number) < (b as number),
  le: (a, b) => (a as number) <= (b as number),
  gt: (a, b) => (a as number) > (b as number),
  ge: (a, b) => (a as number) >= (b as number),
  not: (a) => !truthy(a),
  and: (...xs) => xs.find((x) => !truthy(x)) ?? xs[xs.length - 1],
  or: (...xs) => xs.find((x) => truthy(x)) ?? xs[xs.length - 1],
  index: (v, ...keys) => keys.reduce<unknown>((acc, k) => (acc as Record<string, unknown>)?.[String(k)], v),
  print: (...xs) => xs.map(toText).join(''),
  println: (...xs) => `${xs.map(toText).join(' ')}\n`,
  printf: (f, ...xs) => goSprintf(String(f), xs),
  urlquery: (...xs) => encodeURIComponent(xs.map(toText).join('')).replace(/%20/g, '+'),
  html: (s) =>
    toText(s)
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&#34;')
      .replace(/'/g, '&#39;'),
  js: (s) => JSON.stringify(toText(s)).slice(1, -1),
  toUpper: (s) => toText(s).toUpperCase(),
  toLower: (s) => toText(s).toLowerCase(),
  title: (s) => toText(s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, p: string, c: string) => p + c.toUpperCase()),
  trimSpace: (s) => toText(s).trim(),
  join: (sep, xs) => ((xs as unknown[]) ?? []).map(toText).join(String(sep)),
  match: (pattern, text) => new RegExp(String(pattern), 'u').test(toText(text)),
  reReplaceAll: (pattern, repl, text) =>
    toText(text).replace(
      new RegExp(String(pattern), 'gu'),
      String(repl)
        .replace(/\$\{?(\w+)\}?/g, '$<$1>')
        .replace(/\$<(\d+)>/g, '$$$1'),
    ),
  safeHtml: (s) => toText(s),
  safeUrl: (s) => toText(s),
  stringSlice: (...xs) => xs.map(toText),
  urlUnescape: (s) => decodeURIComponent(toText(s).replace(/\+/g, ' ')),
  toJson: (v) => JSON.stringify(v),
  list: (...xs) => xs,
  dict: (...xs) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i + 1 < xs.length; i += 2) out[String(xs[i])] = xs[i + 1];
    return out;
  },
};

class Exec {
  private readonly vars: Map<string, unknown>[] = [];
  private depth = 0;

  constructor(
    private readonly defs: Map<string, Node[]>,
    private readonly funcs: Record<string, TemplateFunc>,
  ) {}

  run(nodes: Node[], dot: unknown): string {
    this.vars.push(new Map([['$', dot]]));
    try {
      return this.list(nodes, dot);
    } finally {
      this.vars.pop();
    }
  }

  private list(nodes: Node[], dot: unknown): string {
    this.vars.push(new Map());
    try {
      let out = '';
      for (const n of nodes) out += this.node(n, dot);
      return out;
    } finally {
      this.vars.pop();
    }
  }

  private node(n: Node, dot: unknown): string {
    switch (n.t) {
      case 'text':
        return n.text;
      case 'action': {
        const v = this.pipe(n.pipe, dot);
        return n.pipe.decl.length > 0 ? '' : toText(v);
      }
      case 'if':
        return truthy(this.pipe(n.pipe, dot)) ? this.list(n.body, dot) : this.list(n.else, dot);
      case 'with': {
        const v = this.pipe(n.pipe, dot);
        return truthy(v) ? this.list(n.body, v) : this.list(n.else, dot);
      }
      case 'range': {
        const v = this.pipe({ ...n.pipe, decl: [] }, dot);
        const entries: [unknown, unknown][] = Array.isArray(v)
          ? v.map((x, i) => [i, x])
          : v instanceof Map
            ? [...v.entries()].sort(([a], [b]) => (String(a) < String(b) ? -1 : 1))
            : v && typeof v === 'object'
              ? Object.keys(v)
                  .sort()
                  .map((k) => [k, (v as Record<string, unknown>)[k]])
              : typeof v === 'number'
                ? Array.from({ length: v }, (_x, i) => [i, i])
                : [];
        if (entries.length === 0) return this.list(n.else, dot);
        let out = '';
        for (const [k, x] of entries) {
          this.vars.push(new Map());
          const scope = this.vars[this.vars.length - 1];
          if (n.pipe.decl.length === 1) scope.set(n.pipe.decl[0], x);
          if (n.pipe.decl.length === 2) {
            scope.set(n.pipe.decl[0], k);
            scope.set(n.pipe.decl[1], x);
          }
          try {
            out += this.list(n.body, x);
          } finally {
            this.vars.pop();
          }
        }
        return out;
      }
      case 'template': {
        const nodes = this.defs.get(n.name);
        if (!nodes) throw new TemplateError(`no such template ${JSON.stringify(n.name)}`);
        if (++this.depth > 100) throw new TemplateError('exceeded maximum template depth (100)');
        try {
          return this.run(nodes, n.pipe ? this.pipe(n.pipe, dot) : null);
        } finally {
          this.depth--;
        }
      }
    }
  }

  private lookupVar(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].has(name)) return this.vars[i].get(name);
    throw new TemplateError(`undefined variable: ${name}`);
  }

  private setVar(name: string, v: unknown, assign: boolean): void {
    if (assign) {
      for (let i = this.vars.length - 1; i >= 0; i--) {
        if (this.vars[i].has(name)) {
          this.vars[i].set(name, v);
          return;
        }
      }
      throw new TemplateError(`undefined variable: ${name}`);
    }
    this.vars[this.vars.length - 1].set(name, v);
  }

  private pipe(p: Pipe, dot: unknown): unknown {
    let prev: unknown;
    let first = true;
    for (const cmd of p.cmds) {
      prev = this.command(cmd, dot, first ? [] : [prev]);
      first = false;
    }
    if (p.decl.length > 0) this.setVar(p.decl[0], prev, p.assign);
    return prev;
  }

  private command(cmd: Expr[], dot: unknown, piped: unknown[]): unknown {
    const [head, ...args] = cmd;
    if (head.t === 'ident') {
      const f = this.funcs[head.name];
      if (!f) throw new TemplateError(`function ${JSON.stringify(head.name)} not defined`);
      return f(...args.map((a) => this.eval(a, dot)), ...piped);
    }
    if (head.t === 'field' && head.names.length > 0 && (args.length > 0 || piped.length > 0)) {
      const recv = this.resolveBase(head.base, dot);
      return this.access(recv, head.names, [...args.map((a) => this.eval(a, dot)), ...piped]);
    }
    if (args.length > 0 || piped.length > 0) throw new TemplateError("can't give argument to non-function");
    return this.eval(head, dot);
  }

  private resolveBase(base: 'dot' | string | Expr, dot: unknown): unknown {
    if (base === 'dot') return dot;
    if (typeof base === 'string') return this.lookupVar(base);
    return this.eval(base, dot);
  }

  private access(recv: unknown, names: string[], finalArgs: unknown[] = []): unknown {
    let v = recv;
    names.forEach((name, i) => {
      const last = i === names.length - 1;
      if (v === null || v === undefined) throw new TemplateError(`nil pointer evaluating .${name}`);
      let next: unknown;
      if (v instanceof Map) next = v.get(name);
      else next = (v as Record<string, unknown>)[name];
      if (typeof next === 'function') {
        next = (next as (...a: unknown[]) => unknown).apply(v, last ? finalArgs : []);
      } else if (last && finalArgs.length > 0) {
        throw new TemplateError(`${name} is not a method but has arguments`);
      }
      v = next;
    });
    return v;
  }

  private eval(e: Expr, dot: unknown): unknown {
    switch (e.t) {
      case 'str':
      case 'num':
      case 'bool':
        return e.v;
      case 'nil':
        return null;
      case 'ident': {
        const f = this.funcs[e.name];
        if (!f) throw new TemplateError(`function ${JSON.stringify(e.name)} not defined`);
        return f();
      }
      case 'field':
        return this.access(this.resolveBase(e.base, dot), e.names);
      case 'paren':
        return this.access(this.pipe(e.pipe, dot), e.names);
    }
  }
}
