import { parseSelector } from './selector.parser';
import { parseTime } from './catalog.service';
import { readCatalogQuery } from './catalog.controller';

describe('match[] selectors', () => {
  it('reads a metric name with matchers of every kind', () => {
    expect(
      parseSelector('vllm:num_requests_running{model_name=~"qwen.*", pod!="a\\"b", gpu!~\'1|2\', env=`prod`}'),
    ).toEqual([
      { name: '__name__', type: '=', value: 'vllm:num_requests_running' },
      { name: 'model_name', type: '=~', value: 'qwen.*' },
      { name: 'pod', type: '!=', value: 'a"b' },
      { name: 'gpu', type: '!~', value: '1|2' },
      { name: 'env', type: '=', value: 'prod' },
    ]);
    expect(parseSelector('{__name__="up", job="x",}')).toEqual([
      { name: '__name__', type: '=', value: 'up' },
      { name: 'job', type: '=', value: 'x' },
    ]);
  });

  it('refuses what Prometheus refuses, saying where', () => {
    expect(() => parseSelector('{job=~".*"}')).toThrow('vector selector must contain at least one non-empty matcher');
    expect(() => parseSelector('up{job="x"')).toThrow(/invalid parameter "match\[\]": 1:\d+: parse error: /);
    expect(() => parseSelector('up{job=x}')).toThrow(/1:8: parse error: /);
    expect(() => parseSelector('up{job=~"("}')).toThrow(/parse error/);
    expect(() => parseSelector('rate(up[5m])')).toThrow('is not a series selector');
    expect(() => parseSelector('up offset 5m')).toThrow('is not a series selector');
    expect(() => parseSelector('')).toThrow('empty selector');
  });

  it('reads times and parameters as Prometheus does', () => {
    expect(parseTime('1700000000.5', 'start')).toBe(1_700_000_000_500);
    expect(parseTime('2023-11-14T22:13:20Z', 'end')).toBe(1_700_000_000_000);
    expect(() => parseTime('yesterday', 'start')).toThrow('invalid parameter "start"');
    expect(readCatalogQuery({ 'match[]': ['up', 'x'], start: '1' }, { 'match[]': 'y', end: '2' })).toEqual({
      match: ['up', 'x', 'y'],
      start: '1',
      end: '2',
    });
  });
});
