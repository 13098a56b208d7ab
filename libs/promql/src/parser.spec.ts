import { PromqlError } from './errors';
import { parsePromql } from './parser';
import { selectorsOf } from './selectors';

function parseFailure(q: string): PromqlError {
  try {
    parsePromql(q);
  } catch (err) {
    if (err instanceof PromqlError) return err;
    throw err;
  }
  throw new Error(`expected ${q} to fail`);
}

describe('parsePromql', () => {
  it('maps selectors, modifiers, matching and aggregation into the AST', () => {
    const e = parsePromql(
      'sum by (model) (rate(vllm:request_success_total{job="vllm",code!~"5.."}[5m] offset 1m @ 100)) / on(model) group_left(team) owners',
    );
    expect(e.kind).toBe('binary');
    if (e.kind !== 'binary') return;
    expect(e.op).toBe('/');
    expect(e.matching).toEqual({ card: 'many-to-one', on: true, labels: ['model'], include: ['team'] });
    const agg = e.lhs;
    expect(agg.kind === 'aggregate' && agg.op === 'sum' && agg.grouping).toEqual(['model']);
    if (agg.kind !== 'aggregate' || agg.expr.kind !== 'call') throw new Error('shape');
    const arg = agg.expr.args[0];
    if (arg.kind !== 'matrixSelector') throw new Error('shape');
    expect(arg.range).toEqual({ kind: 'lit', ms: 300_000 });
    expect(arg.selector.offset).toEqual({ kind: 'lit', ms: 60_000 });
    expect(arg.selector.at).toEqual({ kind: 'time', ms: 100_000 });
    expect(arg.selector.matchers).toEqual([
      { name: '__name__', type: '=', value: 'vllm:request_success_total' },
      { name: 'job', type: '=', value: 'vllm' },
      { name: 'code', type: '!~', value: '5..' },
    ]);
  });

  it('reads subqueries with and without a step, and @ start()', () => {
    const e = parsePromql('max_over_time(x[1h:5m] @ start())');
    if (e.kind !== 'call' || e.args[0].kind !== 'subquery') throw new Error('shape');
    expect(e.args[0].step).toEqual({ kind: 'lit', ms: 300_000 });
    expect(e.args[0].at).toEqual({ kind: 'start' });
    const noStep = parsePromql('x[10m:]');
    expect(noStep.kind === 'subquery' && noStep.step).toBeUndefined();
  });

  it('reports syntax errors with line and column', () => {
    const err = parseFailure('sum(rate(x[5m])');
    expect(err.errorType).toBe('bad_data');
    expect(err.message).toBe('1:16: parse error: unclosed left parenthesis');
    expect(err.position).toEqual({ offset: 15, line: 1, column: 16 });
  });

  it('checks argument types with the messages Prometheus uses', () => {
    expect(parseFailure('rate(x)').detail).toBe(
      'expected type range vector in call to function "rate", got instant vector',
    );
    expect(parseFailure('abs(x[5m])').detail).toBe(
      'expected type instant vector in call to function "abs", got range vector',
    );
    expect(parseFailure('nope(x)').detail).toBe('unknown function with name "nope"');
    expect(parseFailure('1 > 2').detail).toBe('comparisons between scalars must use BOOL modifier');
    expect(parseFailure('x and 1').detail).toBe('set operator "and" not allowed in binary scalar expression');
    expect(parseFailure('{job=""}').detail).toBe('vector selector must contain at least one non-empty matcher');
    expect(parseFailure('round(x, 1, 2)').detail).toBe('expected at most 2 argument(s) in call to "round", got 3');
  });

  it('accepts number forms Prometheus accepts', () => {
    for (const [q, v] of [
      ['0x1F', 31],
      ['1e3', 1000],
      ['2.', 2],
      ['-Inf', -Infinity],
      ['1h', 3600],
    ] as const) {
      const e = parsePromql(q);
      expect(e.kind === 'number' && e.value).toBe(v);
    }
  });
});

describe('selectorsOf', () => {
  it('lists the matchers of every selector', () => {
    expect(selectorsOf('a{x="1"} + on() b')).toEqual([
      [
        { name: '__name__', type: '=', value: 'a' },
        { name: 'x', type: '=', value: '1' },
      ],
      [{ name: '__name__', type: '=', value: 'b' }],
    ]);
  });
});
