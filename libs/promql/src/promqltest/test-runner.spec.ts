import { isStaleNaN } from '@arcwatch/contracts';
import { parseSeriesLine } from './series-notation';
import { runTestScript } from './test-runner';

describe('series notation', () => {
  it('expands a+bxN, axN, _xN, stale and special values', () => {
    const { labels, points } = parseSeriesLine('m{a="b", c="d"} 1+2x2 5x1 _x2 stale -Inf NaN 10-1x1');
    expect(labels).toEqual({ __name__: 'm', a: 'b', c: 'd' });
    const values = points.map((p) => (p.kind === 'value' ? (isStaleNaN(p.value) ? 'stale' : p.value) : p.kind));
    expect(values).toEqual([1, 3, 5, 5, 5, 'omitted', 'omitted', 'stale', -Infinity, NaN, 10, 9]);
  });

  it('reads label sets without a metric name', () => {
    expect(parseSeriesLine('{job="x"} 1').labels).toEqual({ job: 'x' });
  });
});

describe('runTestScript', () => {
  it('counts passes, failures and named skips', async () => {
    const report = await runTestScript(
      [
        'load 1m',
        '  up{job="a"} 1 1 0',
        '  up{job="b"} 1 1 1',
        '',
        'eval instant at 2m up == 0',
        '  up{job="a"} 0',
        '',
        'eval instant at 2m up == 0',
        '  up{job="b"} 0',
        '',
        'eval range from 0 to 2m step 1m sum(up)',
        '  {} 2 2 1',
        '',
        'eval instant at 0m rate(up[5m] anchored)',
        '',
        'eval instant at 0m rate(up)',
        '  expect fail msg: expected type range vector in call to function "rate", got instant vector',
      ].join('\n'),
    );
    expect(report.cases.map((c) => [c.line, c.status])).toEqual([
      [5, 'passed'],
      [8, 'failed'],
      [11, 'passed'],
      [14, 'skipped'],
      [16, 'passed'],
    ]);
    expect(report.cases[3].reason).toMatch(/anchored/);
  });
});
