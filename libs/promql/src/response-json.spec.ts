import { PromqlEngine, formatResult, type RawQueryResult } from './engine';
import { MemoryQueryable } from './memory-queryable';
import { successResponseJson } from './response-json';

/** What the API sent before: the envelope of `formatResult`, through JSON.stringify. */
function viaObjects(raw: RawQueryResult): string {
  const { warnings, infos, ...data } = formatResult(raw);
  return JSON.stringify({
    status: 'success',
    data,
    ...(warnings.length > 0 ? { warnings } : {}),
    ...(infos.length > 0 ? { infos } : {}),
  });
}

const S = 1000;

function store(): MemoryQueryable {
  const m = new MemoryQueryable();
  for (let t = 0; t <= 600 * S; t += 15 * S) {
    m.add({ __name__: 'gpu_util', node: 'a "quoted" \\ node', gpu: '0' }, t, (t / S) * 0.37);
    m.add({ __name__: 'gpu_util', node: 'ünïcode\n', gpu: '1' }, t, t === 300 * S ? NaN : 1e-9 * t);
    m.add({ __name__: 'gpu_util', node: 'b', gpu: '2' }, t, t % (60 * S) === 0 ? Infinity : -2.5e22);
    m.add({ __name__: 'reqs_total', pod: 'p' }, t, 600 - t / S);
  }
  return m;
}

describe('successResponseJson writes what JSON.stringify of the formatted result writes', () => {
  const engine = new PromqlEngine(store());
  const range = (q: string) => engine.evaluateRange(q, 0, 600 * S, 15 * S);

  it.each([
    ['a matrix with escaped labels, NaN, ±Inf and exponent-range values', 'gpu_util'],
    ['an aggregated matrix', 'avg by (gpu)(gpu_util) * 1.000001'],
    ['a matrix with a warning (rate of a non-counter)', 'rate(gpu_util[1m])'],
    ['a matrix with an info', 'rate(reqs_total[1m])'],
    ['an empty matrix', 'nothing_here'],
    ['a scalar over a range', 'scalar(sum(gpu_util))'],
  ])('%s', async (_name, q) => {
    const raw = await range(q);
    expect(successResponseJson(raw)).toBe(viaObjects(raw));
    expect(JSON.parse(successResponseJson(raw))).toEqual(JSON.parse(viaObjects(raw)));
  });

  it.each([
    ['a vector', 'gpu_util'],
    ['a scalar', '-0.5'],
    ['a string', '"a \\"string\\""'],
  ])('instant: %s', async (_name, q) => {
    const raw = await engine.evaluateInstant(q, 300 * S);
    expect(successResponseJson(raw)).toBe(viaObjects(raw));
  });

  it('keeps warnings and infos in the body when there are some', async () => {
    const raw = await range('rate(gpu_util[1m])');
    expect(raw.warnings.length + raw.infos.length).toBeGreaterThan(0);
    const body = JSON.parse(successResponseJson(raw)) as { warnings?: string[]; infos?: string[] };
    expect([...(body.warnings ?? []), ...(body.infos ?? [])]).toEqual([...raw.warnings, ...raw.infos]);
  });
});
