import { STALE_NAN, type LabelMatcher, type Queryable, type SeriesData } from '@arcwatch/contracts';
import { PromqlEngine } from './engine';
import { PromqlError } from './errors';
import { formatPromValue } from './literals';
import { MemoryQueryable } from './memory-queryable';

const S = 1000;
const M = 60 * S;

/** Records every select so tests can check how storage is read. */
class CountingQueryable implements Queryable {
  readonly selects: { matchers: LabelMatcher[]; startMs: number; endMs: number }[] = [];
  constructor(private readonly inner: MemoryQueryable) {}
  labelNames: Queryable['labelNames'] = (...a) => this.inner.labelNames(...a);
  labelValues: Queryable['labelValues'] = (...a) => this.inner.labelValues(...a);
  series: Queryable['series'] = (...a) => this.inner.series(...a);
  select(matchers: LabelMatcher[], startMs: number, endMs: number): Promise<SeriesData[]> {
    this.selects.push({ matchers, startMs, endMs });
    return this.inner.select(matchers, startMs, endMs);
  }
}

function counterStore(): MemoryQueryable {
  const store = new MemoryQueryable();
  for (let t = 0; t <= 30 * M; t += 15 * S) {
    store.add({ __name__: 'requests_total', pod: 'a' }, t, t / 1000);
    store.add({ __name__: 'requests_total', pod: 'b' }, t, (2 * t) / 1000);
  }
  return store;
}

describe('PromqlEngine', () => {
  it('selects each selector once for a whole range query, widened by range, offset and lookback', async () => {
    const q = new CountingQueryable(counterStore());
    const engine = new PromqlEngine(q);
    const res = await engine.rangeQuery(
      'rate(requests_total[5m] offset 1m) + on(pod) requests_total',
      10 * M,
      20 * M,
      30 * S,
    );
    expect(q.selects).toHaveLength(2);
    const windows = q.selects.map((s) => [s.startMs, s.endMs]).sort((a, b) => a[0] - b[0]);
    expect(windows).toEqual([
      [10 * M - 6 * M, 20 * M - M],
      [10 * M - 5 * M, 20 * M],
    ]);
    expect(res.resultType).toBe('matrix');
    if (res.resultType !== 'matrix') return;
    expect(res.result.map((r) => r.metric)).toEqual([{ pod: 'a' }, { pod: 'b' }]);
    expect(res.result[0].values).toHaveLength(21);
    expect(res.result[0].values[0]).toEqual([600, String(1 + 600)]);
  });

  it('formats scalars, strings and special values as the Prometheus API does', async () => {
    const engine = new PromqlEngine(new MemoryQueryable());
    expect(await engine.instantQuery('1 / 0', 5 * S)).toEqual({
      resultType: 'scalar',
      result: [5, '+Inf'],
      warnings: [],
      infos: [],
    });
    expect(await engine.instantQuery('"hi"', 5 * S)).toMatchObject({ resultType: 'string', result: [5, 'hi'] });
    expect(formatPromValue(NaN)).toBe('NaN');
    expect(formatPromValue(-Infinity)).toBe('-Inf');
    expect(formatPromValue(1e21)).toBe('1000000000000000000000');
    expect(formatPromValue(1.5e-7)).toBe('0.00000015');
    expect(formatPromValue(0.1 + 0.2)).toBe('0.30000000000000004');
  });

  it('ends a series at its staleness marker and after the lookback delta', async () => {
    const store = new MemoryQueryable();
    store.add({ __name__: 'g', i: '1' }, 0, 1);
    store.add({ __name__: 'g', i: '1' }, 60 * S, STALE_NAN);
    store.add({ __name__: 'h', i: '2' }, 0, 2);
    const engine = new PromqlEngine(store, { lookbackDeltaMs: 2 * M });
    const at = async (t: number) => {
      const r = await engine.evaluateInstant('g or h', t);
      return r.result.type === 'vector' ? r.result.samples.map((s) => s.labels.__name__) : [];
    };
    expect(await at(30 * S)).toEqual(['g', 'h']);
    expect(await at(90 * S)).toEqual(['h']);
    expect(await at(2 * M + 1)).toEqual([]);
  });

  it('rejects many-to-many matching with the Prometheus message', async () => {
    const store = new MemoryQueryable();
    store.add({ __name__: 'a', x: '1', y: '1' }, 0, 1);
    store.add({ __name__: 'b', x: '1', y: '1' }, 0, 1);
    store.add({ __name__: 'b', x: '1', y: '2' }, 0, 1);
    const engine = new PromqlEngine(store);
    await expect(engine.instantQuery('a + on(x) b', 0)).rejects.toThrow(
      'found duplicate series for the match group {x="1"} on the right hand-side of the operation: [{__name__="b", x="1", y="1"}, {__name__="b", x="1", y="2"}];many-to-many matching not allowed: matching labels must be unique on one side',
    );
    await expect(engine.instantQuery('a + on(x) b', 0)).rejects.toBeInstanceOf(PromqlError);
  });

  it('keeps __name__ through label_replace when the name is written back', async () => {
    const engine = new PromqlEngine(counterStore());
    const res = await engine.evaluateInstant(
      'label_replace(rate(requests_total{pod="a"}[1m]), "__name__", "per_second", "", "")',
      10 * M,
    );
    expect(res.result.type === 'vector' && res.result.samples.map((s) => s.labels)).toEqual([
      { __name__: 'per_second', pod: 'a' },
    ]);
  });

  it('validates range query parameters', async () => {
    const engine = new PromqlEngine(new MemoryQueryable());
    await expect(engine.rangeQuery('1', 0, 10, 0)).rejects.toMatchObject({ errorType: 'bad_data' });
    await expect(engine.rangeQuery('x[5m]', 0, 10, 1)).rejects.toThrow(
      'invalid expression type "range vector" for range query, must be Scalar or instant Vector',
    );
  });

  it('gives up after the timeout', async () => {
    const engine = new PromqlEngine(counterStore(), { timeoutMs: -1 });
    await expect(engine.instantQuery('requests_total', 0)).rejects.toMatchObject({ errorType: 'timeout' });
  });
});
