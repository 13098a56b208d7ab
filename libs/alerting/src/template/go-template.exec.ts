/**
 * Executes a parsed Go template. Asynchronous because Prometheus's `query` template function
 * runs a PromQL query. Values follow Go's kinds: float64 as number, int as bigint, strings,
 * bools, maps as plain objects, structs as GoStruct (a missing struct field is an error, a missing
 * map key is the zero value — Prometheus runs templates with `missingkey=zero`).
 */
import { formatValue, goTypeName } from './go-format';
import {
  TemplateError,
  type Command,
  type Node,
  type Operand,
  type ParsedTemplate,
  type Pipeline,
} from './go-template.parser';

/** A Go struct: field access by exact name; unknown fields are execution errors. */
export class GoStruct {
  constructor(
    readonly typeName: string,
    readonly fields: Readonly<Record<string, unknown>>,
  ) {}
}

export type TemplateFunction = (...args: unknown[]) => unknown;

/** Thrown out of a function to report Go's `error calling NAME: …`. */
export class TemplateFunctionError extends Error {}

interface Frame {
  name: string;
  value: unknown;
}

class BreakSignal {}
class ContinueSignal {}

/** Go's notion of truth for if / with / and / or / not. */
export function truth(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return v !== '';
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof GoStruct) return true;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

export class TemplateExecutor {
  private out = '';
  private vars: Frame[] = [];

  constructor(
    private readonly tpl: ParsedTemplate,
    private readonly name: string,
    private readonly funcs: Readonly<Record<string, TemplateFunction>>,
  ) {}

  private fail(line: number, msg: string): never {
    throw new TemplateError(`template: ${this.name}:${line}: executing "${this.name}" ${msg}`);
  }

  async execute(data: unknown): Promise<string> {
    this.out = '';
    this.vars = [{ name: '$', value: data }];
    await this.walkList(this.tpl.root, data);
    return this.out;
  }

  private async walkList(nodes: Node[], dot: unknown): Promise<void> {
    for (const n of nodes) await this.walk(n, dot);
  }

  private async scoped(fn: () => Promise<void>): Promise<void> {
    const mark = this.vars.length;
    try {
      await fn();
    } finally {
      this.vars.length = mark;
    }
  }

  private async walk(n: Node, dot: unknown): Promise<void> {
    switch (n.kind) {
      case 'text':
        this.out += n.text;
        return;
      case 'action': {
        const v = await this.pipeline(n.pipe, dot);
        if (n.pipe.decl.length === 0) this.out += formatValue(v);
        return;
      }
      case 'if':
      case 'with':
        await this.scoped(async () => {
          const v = await this.pipeline(n.pipe, dot);
          if (truth(v)) await this.walkList(n.then, n.kind === 'with' ? v : dot);
          else if (n.else) await this.walkList(n.else, dot);
        });
        return;
      case 'range':
        await this.scoped(async () => this.range(n, dot));
        return;
      case 'template': {
        const body = this.tpl.defines.get(n.name);
        if (!body) this.fail(n.line, `at <{{template "${n.name}"}}>: no such template "${n.name}"`);
        const arg = n.pipe ? await this.pipeline(n.pipe, dot) : undefined;
        const saved = this.vars;
        this.vars = [{ name: '$', value: arg }];
        try {
          await this.walkList(body, arg);
        } finally {
          this.vars = saved;
        }
        return;
      }
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
    }
  }

  private async range(n: Extract<Node, { kind: 'range' }>, dot: unknown): Promise<void> {
    const decl = n.pipe.decl;
    const v = await this.pipeline({ ...n.pipe, decl: [] }, dot);
    let entries: [unknown, unknown][];
    if (Array.isArray(v)) entries = v.map((x, i) => [BigInt(i), x]);
    else if (v && typeof v === 'object' && !(v instanceof GoStruct)) {
      entries = Object.keys(v)
        .sort()
        .map((k) => [k, (v as Record<string, unknown>)[k]]);
    } else if (typeof v === 'bigint') entries = Array.from({ length: Number(v) }, (_, i) => [BigInt(i), BigInt(i)]);
    else if (v === undefined || v === null) entries = [];
    else this.fail(n.pipe.line, `range can't iterate over ${formatValue(v)}`);
    if (entries.length === 0) {
      if (n.else) await this.walkList(n.else, dot);
      return;
    }
    for (const [k, el] of entries) {
      const mark = this.vars.length;
      if (decl.length === 1) this.vars.push({ name: decl[0], value: el });
      if (decl.length === 2) this.vars.push({ name: decl[0], value: k }, { name: decl[1], value: el });
      try {
        await this.walkList(n.body, el);
      } catch (e) {
        if (e instanceof BreakSignal) break;
        if (!(e instanceof ContinueSignal)) throw e;
      } finally {
        this.vars.length = mark;
      }
    }
  }

  private lookupVar(name: string, line: number): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i].value;
    return this.fail(line, `undefined variable: ${name}`);
  }

  private async pipeline(p: Pipeline, dot: unknown): Promise<unknown> {
    let v: unknown = undefined;
    let first = true;
    for (const c of p.cmds) {
      v = await this.command(c, dot, p.line, first ? undefined : { value: v });
      first = false;
    }
    if (p.assign) {
      for (let i = this.vars.length - 1; i >= 0; i--) {
        if (this.vars[i].name === p.decl[0]) {
          this.vars[i].value = v;
          break;
        }
      }
    } else if (p.decl.length === 1) this.vars.push({ name: p.decl[0], value: v });
    return v;
  }

  private field(v: unknown, name: string, line: number): unknown {
    if (v instanceof GoStruct) {
      if (!(name in v.fields)) this.fail(line, `at <.${name}>: can't evaluate field ${name} in type ${v.typeName}`);
      return v.fields[name];
    }
    if (v === undefined || v === null) this.fail(line, `at <.${name}>: nil pointer evaluating interface {}.${name}`);
    if (typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      return Object.prototype.hasOwnProperty.call(o, name) ? o[name] : '';
    }
    return this.fail(line, `at <.${name}>: can't evaluate field ${name} in type ${goTypeName(v)}`);
  }

  private fields(v: unknown, names: string[], line: number): unknown {
    let cur = v;
    for (const n of names) cur = this.field(cur, n, line);
    return cur;
  }

  private async operand(op: Operand, dot: unknown, line: number): Promise<unknown> {
    switch (op.kind) {
      case 'dot':
        return dot;
      case 'field':
        return this.fields(dot, op.names, line);
      case 'variable':
        return this.fields(this.lookupVar(op.name, line), op.names, line);
      case 'string':
      case 'number':
      case 'bool':
        return op.value;
      case 'nil':
        return undefined;
      case 'pipe':
        return this.fields(await this.pipeline(op.pipe, dot), op.names, line);
      case 'func':
        return this.call(op.name, [], line);
    }
  }

  private async call(name: string, args: unknown[], line: number): Promise<unknown> {
    const fn = this.funcs[name];
    if (!fn) this.fail(line, `at <${name}>: function "${name}" not defined`);
    try {
      return await fn(...args);
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      this.fail(line, `at <${name}>: error calling ${name}: ${(e as Error).message}`);
    }
  }

  private async command(
    c: Command,
    dot: unknown,
    line: number,
    final: { value: unknown } | undefined,
  ): Promise<unknown> {
    const [head, ...rest] = c.args;
    if (head.kind === 'func') {
      // and / or short-circuit in Go: later arguments are evaluated only when needed.
      if (head.name === 'and' || head.name === 'or') {
        const ops = final
          ? [...rest.map((o) => () => this.operand(o, dot, line)), async () => final.value]
          : rest.map((o) => () => this.operand(o, dot, line));
        let v: unknown = undefined;
        for (const get of ops) {
          v = await get();
          if (head.name === 'and' ? !truth(v) : truth(v)) return v;
        }
        return v;
      }
      const args: unknown[] = [];
      for (const o of rest) args.push(await this.operand(o, dot, line));
      if (final) args.push(final.value);
      return this.call(head.name, args, line);
    }
    if (rest.length > 0 || final)
      this.fail(line, `can't give argument to non-function ${formatValue(await this.operand(head, dot, line))}`);
    return this.operand(head, dot, line);
  }
}
