/**
 * The typed PromQL syntax tree the evaluator works on. It is built from the lezer tree (see
 * parser.ts) and carries only what evaluation and error reporting need.
 */
import type { LabelMatcher } from '@arcwatch/contracts';

export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

/** Half-open character range [start, end) in the query text, for error and annotation positions. */
export interface PosRange {
  start: number;
  end: number;
}

/**
 * A duration as written: a literal, or one of the duration expressions (`step()`, `range()`,
 * `min_of(a, b)`, arithmetic) that only become numbers once the query's step and range are known.
 */
export type DurationExpr =
  | { kind: 'lit'; ms: number }
  | { kind: 'step' }
  | { kind: 'range' }
  | { kind: 'neg'; expr: DurationExpr }
  | { kind: 'bin'; op: '+' | '-' | '*' | '/' | '%' | '^'; lhs: DurationExpr; rhs: DurationExpr }
  | { kind: 'minmax'; op: 'min' | 'max'; lhs: DurationExpr; rhs: DurationExpr };

/** `@ <time>`, `@ start()` or `@ end()`. */
export type AtModifier = { kind: 'time'; ms: number } | { kind: 'start' } | { kind: 'end' };

export interface NumberLiteral {
  kind: 'number';
  value: number;
  pos: PosRange;
}

export interface StringLiteral {
  kind: 'string';
  value: string;
  pos: PosRange;
}

export interface VectorSelector {
  kind: 'vectorSelector';
  name?: string;
  matchers: LabelMatcher[];
  offset?: DurationExpr;
  at?: AtModifier;
  pos: PosRange;
}

export interface MatrixSelector {
  kind: 'matrixSelector';
  selector: VectorSelector;
  range: DurationExpr;
  /** Experimental extended range selectors (`anchored`, `smoothed`). */
  extension?: 'anchored' | 'smoothed';
  pos: PosRange;
}

export interface SubqueryExpr {
  kind: 'subquery';
  expr: Expr;
  range: DurationExpr;
  /** Absent means the engine's default subquery resolution. */
  step?: DurationExpr;
  offset?: DurationExpr;
  at?: AtModifier;
  pos: PosRange;
}

export type AggregateOp =
  | 'sum'
  | 'avg'
  | 'min'
  | 'max'
  | 'count'
  | 'group'
  | 'stddev'
  | 'stdvar'
  | 'topk'
  | 'bottomk'
  | 'quantile'
  | 'count_values'
  | 'limitk'
  | 'limit_ratio';

export interface AggregateExpr {
  kind: 'aggregate';
  op: AggregateOp;
  expr: Expr;
  param?: Expr;
  grouping: string[];
  without: boolean;
  pos: PosRange;
}

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2';
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type SetOp = 'and' | 'or' | 'unless';
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

export interface VectorMatching {
  card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  /** true for `on(...)`, false for `ignoring(...)` or no clause. */
  on: boolean;
  labels: string[];
  /** Extra labels copied from the "one" side by group_left/group_right. */
  include: string[];
}

export interface BinaryExpr {
  kind: 'binary';
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  returnBool: boolean;
  matching?: VectorMatching;
  /** `fill(v)` / `fill_left(v)` / `fill_right(v)`: values used for a missing side. */
  fill?: { lhs?: number; rhs?: number };
  pos: PosRange;
}

export interface Call {
  kind: 'call';
  func: string;
  args: Expr[];
  pos: PosRange;
}

export interface ParenExpr {
  kind: 'paren';
  expr: Expr;
  pos: PosRange;
}

export interface UnaryExpr {
  kind: 'unary';
  op: '-' | '+';
  expr: Expr;
  pos: PosRange;
}

export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | AggregateExpr
  | BinaryExpr
  | Call
  | ParenExpr
  | UnaryExpr;

export function isComparisonOp(op: BinaryOp): op is ComparisonOp {
  return op === '==' || op === '!=' || op === '>' || op === '<' || op === '>=' || op === '<=';
}

export function isSetOp(op: BinaryOp): op is SetOp {
  return op === 'and' || op === 'or' || op === 'unless';
}

/** Visits every node depth-first, parents before children. */
export function walkExpr(expr: Expr, visit: (e: Expr, path: Expr[]) => void, path: Expr[] = []): void {
  visit(expr, path);
  const next = [...path, expr];
  for (const child of childrenOf(expr)) walkExpr(child, visit, next);
}

export function childrenOf(expr: Expr): Expr[] {
  switch (expr.kind) {
    case 'matrixSelector':
      return [expr.selector];
    case 'subquery':
    case 'paren':
    case 'unary':
      return [expr.expr];
    case 'aggregate':
      return expr.param ? [expr.param, expr.expr] : [expr.expr];
    case 'binary':
      return [expr.lhs, expr.rhs];
    case 'call':
      return expr.args;
    default:
      return [];
  }
}
