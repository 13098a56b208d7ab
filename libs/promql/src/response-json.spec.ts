import { formatResult, responseJson, type RawQueryResult } from './engine';

/** What the API answered before responseJson: the envelope over formatResult, through JSON.stringify. */
function viaStringify(raw: RawQueryResult): string {
  const { warnings, infos, ...data } = formatResult(raw);
  return JSON.stringify({
    status: 'success',
    data,
    ...(warnings.length > 0 ? { warnings } : {}),
    ...(infos.length > 0 ? { infos } : {}),
  });
}

describe('responseJson', () => {
  it('writes a matrix as JSON.stringify writes the formatted result, values and times included', () => {
    const raw: RawQueryResult = {
      result: {
        type: 'matrix',
        series: [
          {
            labels: { Hostname: 'node-1', 'odd "label"': 'a\\b\nc', emoji: '⚡' },
            timestamps: [1_764_857_700_000, 1_764_857_715_000, 1_764_857_730_500],
            values: [45.125, NaN, -0],
          },
          {
            labels: {},
            timestamps: [1_764_857_700_000, 1_764_857_715_000, 1],
            values: [Infinity, -Infinity, 1e-9],
          },
          { labels: { le: '+Inf' }, timestamps: [1_764_857_700_000], values: [1.7976931348623157e308] },
        ],
      },
      warnings: ['PromQL warning: "x" is not a counter'],
      infos: ['PromQL info: y'],
    };
    const text = responseJson(raw);
    expect(text).toBe(viaStringify(raw));
    expect(JSON.parse(text).data.result[0].values).toEqual([
      [1_764_857_700, '45.125'],
      [1_764_857_715, 'NaN'],
      [1_764_857_730.5, '-0'],
    ]);
    expect(JSON.parse(text).data.result[1].values[2]).toEqual([0.001, '0.000000001']);
  });

  it('writes repeated, colliding and signed-zero values as their own text (values are cached by their bits)', () => {
    // 20,000 points: a few hundred repeated values, 10,000 distinct ones (many share a cache slot),
    // zeros of both signs and NaN between them
    const values: number[] = [];
    for (let i = 0; i < 10_000; i++) values.push((i % 801) / 8, Math.sqrt(i) * 1e-3 + i);
    values[5] = -0;
    values[7] = 0;
    values[9] = NaN;
    const raw: RawQueryResult = {
      result: {
        type: 'matrix',
        series: [{ labels: { a: '1' }, timestamps: values.map((_, i) => i * 15_000), values }],
      },
      warnings: [],
      infos: [],
    };
    expect(responseJson(raw)).toBe(viaStringify(raw));
    expect(responseJson(raw)).toBe(viaStringify(raw)); // and again, with the cache filled
    expect(JSON.parse(responseJson(raw)).data.result[0].values.slice(4, 10)).toEqual([
      [60, '0.25'],
      [75, '-0'],
      [90, '0.375'],
      [105, '0'],
      [120, '0.5'],
      [135, 'NaN'],
    ]);
  });

  it('writes vectors, scalars, strings and an empty matrix as before, without notes when there are none', () => {
    const cases: RawQueryResult[] = [
      {
        result: { type: 'vector', timeMs: 4_000, samples: [{ labels: { a: 'b' }, value: 2 }] },
        warnings: [],
        infos: [],
      },
      { result: { type: 'scalar', timeMs: 4_000, value: 2 }, warnings: [], infos: [] },
      { result: { type: 'string', timeMs: 1_500, value: 'x"y' }, warnings: ['w'], infos: [] },
      { result: { type: 'matrix', series: [] }, warnings: [], infos: [] },
    ];
    for (const raw of cases) expect(responseJson(raw)).toBe(viaStringify(raw));
    expect(responseJson(cases[1]!)).toBe('{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}');
  });
});
