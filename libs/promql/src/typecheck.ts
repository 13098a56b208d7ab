/** Static type rules of PromQL, with Prometheus's messages. */
import { childrenOf, isComparisonOp, isSetOp, type Expr, type ValueType } from './ast';
import { parseError } from './errors';
import { FUNCTIONS } from './function-table';

export function documentedType(t: ValueType): string {
  return t === 'vector' ? 'instant vector' : t === 'matrix' ? 'range vector' : t;
}

export function typeOf(e: Expr): ValueType {
  switch (e.kind) {
    case 'number':
      return 'scalar';
    case 'string':
      return 'string';
    case 'vectorSelector':
    case 'aggregate':
      return 'vector';
    case 'matrixSelector':
    case 'subquery':
      return 'matrix';
    case 'binary':
      return typeOf(e.lhs) === 'scalar' && typeOf(e.rhs) === 'scalar' ? 'scalar' : 'vector';
    case 'call':
      return FUNCTIONS[e.func]?.returns ?? 'vector';
    case 'paren':
    case 'unary':
      return typeOf(e.expr);
  }
}

/** Throws the first type error found, depth-first like Prometheus's checkAST. */
export function checkTypes(query: string, e: Expr): void {
  const fail = (msg: string): never => {
    throw parseError(query, e.pos.start, msg);
  };
  switch (e.kind) {
    case 'call': {
      const sig = FUNCTIONS[e.func];
      if (!sig) fail(`unknown function with name ${JSON.stringify(e.func)}`);
      const n = e.args.length;
      if (sig.variadic === 0) {
        if (n !== sig.args.length)
          fail(`expected ${sig.args.length} argument(s) in call to ${JSON.stringify(e.func)}, got ${n}`);
      } else {
        const min = sig.variadic < 0 ? sig.args.length - 1 : sig.args.length - sig.variadic;
        if (n < min) fail(`expected at least ${min} argument(s) in call to ${JSON.stringify(e.func)}, got ${n}`);
        if (sig.variadic > 0 && n > sig.args.length)
          fail(`expected at most ${sig.args.length} argument(s) in call to ${JSON.stringify(e.func)}, got ${n}`);
      }
      e.args.forEach((arg, i) => {
        const want = sig.args[Math.min(i, sig.args.length - 1)];
        const got = typeOf(arg);
        if (got !== want) {
          throw parseError(
            query,
            arg.pos.start,
            `expected type ${documentedType(want)} in call to function ${JSON.stringify(e.func)}, got ${documentedType(got)}`,
          );
        }
      });
      break;
    }
    case 'aggregate': {
      const t = typeOf(e.expr);
      if (t !== 'vector') fail(`expected type instant vector in aggregation expression, got ${documentedType(t)}`);
      if (e.param) {
        const want = e.op === 'count_values' ? 'string' : 'scalar';
        const got = typeOf(e.param);
        if (got !== want) fail(`expected type ${want} in aggregation parameter, got ${documentedType(got)}`);
      }
      break;
    }
    case 'binary': {
      const lt = typeOf(e.lhs);
      const rt = typeOf(e.rhs);
      const ok = (t: ValueType) => t === 'scalar' || t === 'vector';
      if (!ok(lt) || !ok(rt)) fail('binary expression must contain only scalar and instant vector types');
      if (e.returnBool && !isComparisonOp(e.op)) fail('bool modifier can only be used on comparison operators');
      if (isComparisonOp(e.op) && lt === 'scalar' && rt === 'scalar' && !e.returnBool)
        fail('comparisons between scalars must use BOOL modifier');
      if (isSetOp(e.op) && (lt === 'scalar' || rt === 'scalar'))
        fail(`set operator ${JSON.stringify(e.op)} not allowed in binary scalar expression`);
      if (e.matching && (lt !== 'vector' || rt !== 'vector')) {
        if (e.matching.on || e.matching.labels.length > 0 || e.matching.card !== 'one-to-one')
          fail('vector matching only allowed between instant vectors');
      }
      if (e.matching && isSetOp(e.op)) {
        if (e.matching.card === 'many-to-one' || e.matching.card === 'one-to-many')
          fail(`no grouping allowed for ${JSON.stringify(e.op)} operation`);
      }
      if (e.matching?.on) {
        for (const l of e.matching.include)
          if (e.matching.labels.includes(l))
            fail(`label ${JSON.stringify(l)} must not occur in ON and GROUP clause at once`);
      }
      break;
    }
    case 'unary': {
      const t = typeOf(e.expr);
      if (t !== 'scalar' && t !== 'vector')
        fail(
          `unary expression only allowed on expressions of type scalar or instant vector, got ${JSON.stringify(documentedType(t))}`,
        );
      break;
    }
    case 'subquery': {
      const t = typeOf(e.expr);
      if (t !== 'vector') fail(`subquery is only allowed on instant vector, got ${documentedType(t)} instead`);
      break;
    }
    default:
      break;
  }
  for (const c of childrenOf(e)) checkTypes(query, c);
}
