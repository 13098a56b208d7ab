/**
 * Parses PromQL with the grammar Prometheus ships for its UI (@prometheus-io/lezer-promql) and
 * maps the lezer tree onto our typed AST. Lezer recovers from errors, so syntax errors are found
 * by looking for error nodes; type rules are checked afterwards (typecheck.ts).
 */
import { anchoredRegex } from './selectors';
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import type { LabelMatcher, MatchType } from '@arcwatch/contracts';
import type {
  AggregateOp,
  AtModifier,
  BinaryOp,
  DurationExpr,
  Expr,
  MatrixSelector,
  PosRange,
  SubqueryExpr,
  VectorMatching,
  VectorSelector,
} from './ast';
import { PromqlError, parseError } from './errors';
import { parseDurationMs, parseNumberLiteral, unquoteString } from './literals';
import { describeSyntaxError, lexPromql } from './syntax-errors';
import { checkTypes } from './typecheck';

const BINARY_OPS: Record<string, BinaryOp> = {
  Pow: '^',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Atan2: 'atan2',
  Add: '+',
  Sub: '-',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Lss: '<',
  Gte: '>=',
  Lte: '<=',
  And: 'and',
  Or: 'or',
  Unless: 'unless',
};
const MATCH_OPS: Record<string, MatchType> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };
const PARAM_AGGREGATIONS = new Set<AggregateOp>([
  'topk',
  'bottomk',
  'quantile',
  'count_values',
  'limitk',
  'limit_ratio',
]);

/** Parses and type-checks a query. Throws PromqlError('bad_data') with a position. */
export function parsePromql(rawQuery: string): Expr {
  const query = blankComments(rawQuery);
  let tree = parser.parse(query);
  let firstError = findError(tree.topNode);
  const lexError = lexPromql(query).error;
  // Lezer's string token runs to the end of input; PromQL's lexer rejects an unclosed quote.
  if (!firstError && lexError?.msg.startsWith('unterminated')) throw parseError(query, lexError.pos, lexError.msg);
  if (firstError && !lexError) {
    // Prometheus accepts `2.` as a number; the lezer grammar wants digits after the point.
    // Blanking the point keeps every offset (and so every error position) unchanged.
    const patched = query.replace(
      /("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)|(\d)\.(?![\w.])/g,
      (all, str, digit) => (str ? all : `${digit} `),
    );
    if (patched !== query) {
      const retry = parser.parse(patched);
      if (!findError(retry.topNode)) {
        tree = retry;
        firstError = undefined;
      }
    }
  }
  if (firstError) throw syntaxError(query, firstError);
  const top = tree.topNode.firstChild;
  if (!top) throw parseError(query, 0, 'no expression found in input');
  const expr = new TreeMapper(query).expr(top);
  checkTypes(query, expr);
  return expr;
}

/**
 * PromQL allows `#` comments to the end of a line (rule files use them); the lezer grammar keeps
 * them as nodes that the tree mapper would trip over. Blanking them with spaces keeps every offset,
 * so error positions still point into the query as written.
 */
export function blankComments(query: string): string {
  if (!query.includes('#')) return query;
  const out = query.split('');
  let quote = '';
  for (let i = 0; i < out.length; i++) {
    const c = out[i];
    if (quote) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'" || c === '`') {
      quote = c;
    } else if (c === '#') {
      for (; i < out.length && out[i] !== '\n'; i++) out[i] = ' ';
    }
  }
  return out.join('');
}

function findError(top: SyntaxNode): SyntaxNode | undefined {
  let found: SyntaxNode | undefined;
  top.toTree().iterate({
    enter: (n) => {
      if (found) return false;
      if (n.type.isError) found = n.node;
      return undefined;
    },
  });
  return found;
}

function syntaxError(query: string, node: SyntaxNode): PromqlError {
  const { pos, msg } = describeSyntaxError(query, node.from);
  return parseError(query, pos, msg);
}

class TreeMapper {
  constructor(private readonly q: string) {}

  private text(n: SyntaxNode): string {
    return this.q.slice(n.from, n.to);
  }

  private pos(n: SyntaxNode): PosRange {
    return { start: n.from, end: n.to };
  }

  private fail(n: SyntaxNode, msg: string): never {
    throw parseError(this.q, n.from, msg);
  }

  private children(n: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c; c = c.nextSibling) out.push(c);
    return out;
  }

  private str(n: SyntaxNode): string {
    try {
      return unquoteString(this.text(n));
    } catch (err) {
      return this.fail(n, (err as Error).message);
    }
  }

  expr(n: SyntaxNode): Expr {
    switch (n.type.name) {
      case 'NumberDurationLiteral': {
        const v = parseNumberLiteral(this.text(n));
        if (v === undefined) this.fail(n, `bad number or duration syntax: ${JSON.stringify(this.text(n))}`);
        return { kind: 'number', value: v, pos: this.pos(n) };
      }
      case 'StringLiteral':
        return { kind: 'string', value: this.str(n), pos: this.pos(n) };
      case 'VectorSelector':
        return this.vectorSelector(n);
      case 'MatrixSelector':
        return this.matrixSelector(n);
      case 'SubqueryExpr':
        return this.subquery(n);
      case 'OffsetExpr':
        return this.offset(n);
      case 'StepInvariantExpr':
        return this.at(n);
      case 'AnchoredExpr':
      case 'SmoothedExpr': {
        const inner = this.expr(n.firstChild!);
        if (inner.kind !== 'matrixSelector')
          this.fail(
            n,
            `${n.type.name === 'AnchoredExpr' ? 'anchored' : 'smoothed'} modifier can only be used on range vector selectors`,
          );
        return { ...inner, extension: n.type.name === 'AnchoredExpr' ? 'anchored' : 'smoothed', pos: this.pos(n) };
      }
      case 'AggregateExpr':
        return this.aggregate(n);
      case 'BinaryExpr':
        return this.binary(n);
      case 'FunctionCall': {
        const [ident, body] = this.children(n);
        const func = this.text(ident);
        return { kind: 'call', func, args: this.children(body).map((c) => this.expr(c)), pos: this.pos(n) };
      }
      case 'ParenExpr':
        return { kind: 'paren', expr: this.expr(n.firstChild!), pos: this.pos(n) };
      case 'UnaryExpr': {
        const [opNode, operand] = this.children(n);
        const op = this.text(opNode) === '-' ? '-' : '+';
        const inner = this.expr(operand);
        if (inner.kind === 'number')
          return { kind: 'number', value: op === '-' ? -inner.value : inner.value, pos: this.pos(n) };
        return { kind: 'unary', op, expr: inner, pos: this.pos(n) };
      }
      default:
        return this.fail(n, `unexpected ${n.type.name}`);
    }
  }

  private labelName(n: SyntaxNode): string {
    return n.type.name === 'QuotedLabelName' ? this.str(n.firstChild!) : this.text(n);
  }

  private vectorSelector(n: SyntaxNode): VectorSelector {
    let name: string | undefined;
    const matchers: LabelMatcher[] = [];
    for (const c of this.children(n)) {
      if (c.type.name === 'Identifier') name = this.text(c);
      if (c.type.name !== 'LabelMatchers') continue;
      for (const m of this.children(c)) {
        if (m.type.name === 'QuotedLabelName') {
          const metric = this.str(m.firstChild!);
          if (name !== undefined)
            this.fail(m, `metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(metric)}`);
          name = metric;
          continue;
        }
        const [ln, op, value] = this.children(m);
        const type = MATCH_OPS[op.firstChild!.type.name];
        const matcher: LabelMatcher = { name: this.labelName(ln), type, value: this.str(value) };
        if (type === '=~' || type === '!~') {
          try {
            anchoredRegex(matcher.value);
          } catch (err) {
            this.fail(value, `error parsing regexp: ${(err as Error).message}`);
          }
        }
        matchers.push(matcher);
      }
    }
    if (name !== undefined) {
      if (matchers.some((m) => m.name === '__name__'))
        this.fail(
          n,
          `metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(matchers.find((m) => m.name === '__name__')!.value)}`,
        );
      matchers.unshift({ name: '__name__', type: '=', value: name });
    }
    if (!matchers.some((m) => !matchesEmpty(m)))
      this.fail(n, 'vector selector must contain at least one non-empty matcher');
    return { kind: 'vectorSelector', name, matchers, pos: this.pos(n) };
  }

  /**
   * Lezer attaches `[range]`, `[range:step]`, `offset` and `@` to a whole preceding unary or
   * binary expression; in PromQL they bind tightest, to the operand right before them
   * (`-x @ 100` is `-(x @ 100)`, `a + b offset 1m` is `a + (b offset 1m)`).
   */
  private rebind(e: Expr, apply: (operand: Expr) => Expr): Expr {
    if (e.kind === 'unary') return { ...e, expr: this.rebind(e.expr, apply) };
    if (e.kind === 'binary') return { ...e, rhs: this.rebind(e.rhs, apply) };
    return apply(e);
  }

  private matrixSelector(n: SyntaxNode): Expr {
    const [inner, dur] = this.children(n);
    const range = this.duration(dur);
    return this.rebind(this.expr(inner), (sel): MatrixSelector => {
      if (sel.kind !== 'vectorSelector') this.fail(n, 'ranges only allowed for vector selectors');
      if (sel.offset) this.fail(n, 'no offset modifiers allowed before range');
      if (sel.at) this.fail(n, 'no @ modifiers allowed before range');
      return { kind: 'matrixSelector', selector: sel, range, pos: { start: sel.pos.start, end: n.to } };
    });
  }

  private subquery(n: SyntaxNode): Expr {
    const [inner, rangeNode, stepNode] = this.children(n);
    const range = this.duration(rangeNode);
    const step = stepNode ? this.duration(stepNode) : undefined;
    return this.rebind(this.expr(inner), (e): SubqueryExpr => ({
      kind: 'subquery',
      expr: e,
      range,
      step,
      pos: { start: e.pos.start, end: n.to },
    }));
  }

  private offset(n: SyntaxNode): Expr {
    const [inner, , dur] = this.children(n);
    const offset = this.duration(dur);
    return this.rebind(this.expr(inner), (e) => {
      const target = e.kind === 'matrixSelector' ? e.selector : e;
      if (target.kind !== 'vectorSelector' && target.kind !== 'subquery')
        this.fail(
          n,
          'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery',
        );
      if (target.offset) this.fail(n, 'offset may not be set multiple times');
      target.offset = offset;
      return { ...e, pos: { start: e.pos.start, end: n.to } } as Expr;
    });
  }

  private at(n: SyntaxNode): Expr {
    const kids = this.children(n);
    const last = kids[kids.length - 1];
    let at: AtModifier;
    if (last.type.name === 'AtModifierPreprocessors') {
      at = { kind: last.firstChild!.type.name === 'AtStart' ? 'start' : 'end' };
    } else {
      const secs = parseNumberLiteral(this.text(last));
      if (secs === undefined || !Number.isFinite(secs))
        this.fail(last, `timestamp out of bounds for @ modifier: ${this.text(last)}`);
      at = { kind: 'time', ms: Math.round(secs * 1000) };
    }
    return this.rebind(this.expr(kids[0]), (e) => {
      const target = e.kind === 'matrixSelector' ? e.selector : e;
      if (target.kind !== 'vectorSelector' && target.kind !== 'subquery')
        this.fail(
          n,
          '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery',
        );
      if (target.at) this.fail(n, '@ <timestamp> may not be set multiple times');
      target.at = at;
      return { ...e, pos: { start: e.pos.start, end: n.to } } as Expr;
    });
  }

  private aggregate(n: SyntaxNode): Expr {
    let op: AggregateOp = 'sum';
    let grouping: string[] = [];
    let without = false;
    let args: Expr[] = [];
    for (const c of this.children(n)) {
      if (c.type.name === 'AggregateOp') op = this.text(c).toLowerCase() as AggregateOp;
      else if (c.type.name === 'AggregateModifier') {
        const [kw, labels] = this.children(c);
        without = kw.type.name === 'Without';
        grouping = this.children(labels).map((l) => this.labelName(l));
      } else if (c.type.name === 'FunctionCallBody') args = this.children(c).map((a) => this.expr(a));
    }
    const want = PARAM_AGGREGATIONS.has(op) ? 2 : 1;
    if (args.length !== want)
      this.fail(n, `wrong number of arguments for aggregate expression provided, expected ${want}, got ${args.length}`);
    return {
      kind: 'aggregate',
      op,
      expr: args[want - 1],
      param: want === 2 ? args[0] : undefined,
      grouping,
      without,
      pos: this.pos(n),
    };
  }

  private binary(n: SyntaxNode): Expr {
    const kids = this.children(n);
    const lhs = this.expr(kids[0]);
    const rhs = this.expr(kids[kids.length - 1]);
    const opName = kids[1].type.name;
    if (opName === 'TrimUpper' || opName === 'TrimLower') {
      this.fail(
        kids[1],
        `operator ${JSON.stringify(this.text(kids[1]))} trims native histograms, which this engine does not support`,
      );
    }
    const op = BINARY_OPS[opName];
    let returnBool = false;
    let matching: VectorMatching | undefined;
    let fill: { lhs?: number; rhs?: number } | undefined;
    for (const c of kids.slice(2, -1)) {
      if (c.type.name === 'BoolModifier') returnBool = true;
      else if (c.type.name === 'MatchingModifierClause') matching = this.matching(c);
      else if (c.type.name === 'FillModifier') fill = this.fill(c);
    }
    const signed = /^\s*([-+])/.exec(this.text(kids[0]));
    if (op === '^' && kids[0].type.name === 'NumberDurationLiteral' && signed && lhs.kind === 'number') {
      // The grammar folds the sign into the literal, but a unary sign binds looser than `^`:
      // `-2 ^ 2` is -(2 ^ 2).
      const magnitude: Expr = { kind: 'number', value: Math.abs(lhs.value), pos: lhs.pos };
      const power: Expr = { kind: 'binary', op, lhs: magnitude, rhs, returnBool, matching, fill, pos: this.pos(n) };
      return signed[1] === '-' ? { kind: 'unary', op: '-', expr: power, pos: this.pos(n) } : power;
    }
    return { kind: 'binary', op, lhs, rhs, returnBool, matching, fill, pos: this.pos(n) };
  }

  private matching(c: SyntaxNode): VectorMatching {
    const parts = this.children(c);
    const m: VectorMatching = {
      card: 'one-to-one',
      on: parts[0].type.name === 'On',
      labels: this.children(parts[1]).map((l) => this.labelName(l)),
      include: [],
    };
    if (parts[2]) {
      m.card = parts[2].type.name === 'GroupLeft' ? 'many-to-one' : 'one-to-many';
      if (parts[3]) m.include = this.children(parts[3]).map((l) => this.labelName(l));
    }
    return m;
  }

  private fill(c: SyntaxNode): { lhs?: number; rhs?: number } {
    const out: { lhs?: number; rhs?: number } = {};
    for (const clause of this.children(c)) {
      const num = this.children(clause).find((k) => k.type.name === 'NumberDurationLiteral');
      const v = num ? (parseNumberLiteral(this.text(num)) ?? NaN) : NaN;
      if (clause.type.name !== 'FillRightClause') out.lhs = v;
      if (clause.type.name !== 'FillLeftClause') out.rhs = v;
    }
    return out;
  }

  private duration(n: SyntaxNode): DurationExpr {
    const kids = this.children(n);
    const first = kids[0];
    if (!first) return this.fail(n, 'missing duration');
    switch (first.type.name) {
      case 'NumberDurationLiteralInDurationContext': {
        const t = this.text(first);
        const d = parseDurationMs(t);
        if (d !== undefined) return { kind: 'lit', ms: d };
        const secs = parseNumberLiteral(t);
        if (secs === undefined || !Number.isFinite(secs)) this.fail(first, `bad duration syntax: ${JSON.stringify(t)}`);
        return { kind: 'lit', ms: Math.round(secs * 1000) };
      }
      case 'DurationStep':
        return { kind: 'step' };
      case 'DurationRange':
        return { kind: 'range' };
      case 'DurationMinOf':
      case 'DurationMaxOf':
        return {
          kind: 'minmax',
          op: first.type.name === 'DurationMinOf' ? 'min' : 'max',
          lhs: this.duration(kids[1]),
          rhs: this.duration(kids[2]),
        };
      case 'UnaryOp': {
        const inner = this.duration(kids[1]);
        return this.text(first) === '-' ? { kind: 'neg', expr: inner } : inner;
      }
      case 'DurationExpr':
      case 'OffsetDurationExpr': {
        if (kids.length === 1) return this.duration(first);
        const op = BINARY_OPS[kids[1].type.name];
        return { kind: 'bin', op: op as '+', lhs: this.duration(first), rhs: this.duration(kids[2]) };
      }
      default:
        // "(" DurationExpr ")": the parenthesis tokens are anonymous, so the inner node comes first.
        return this.fail(n, `unexpected ${first.type.name} in duration`);
    }
  }
}

function matchesEmpty(m: LabelMatcher): boolean {
  switch (m.type) {
    case '=':
      return m.value === '';
    case '!=':
      return m.value !== '';
    case '=~':
      return anchoredRegex(m.value).test('');
    case '!~':
      return !anchoredRegex(m.value).test('');
  }
}
