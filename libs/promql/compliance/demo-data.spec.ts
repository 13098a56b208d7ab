import { expandCorpus } from './corpus';
import { DEMO_INSTANCES, formatOpenMetricsTimestamp, generateDemoSeries } from './demo-series';

describe('demo data and corpus expansion', () => {
  const series = generateDemoSeries({ durationMs: 10 * 60_000 });

  it('is the same on every run', () => {
    const again = generateDemoSeries({ durationMs: 10 * 60_000 });
    expect(again.map((s) => [s.labels, Array.from(s.values)])).toEqual(
      series.map((s) => [s.labels, Array.from(s.values)]),
    );
  });

  it('never scrapes on a whole second, and every timestamp survives the OpenMetrics round trip', () => {
    const bad = series.flatMap((s) =>
      Array.from(s.timestamps).filter(
        (t) => t % 1000 === 0 || Math.trunc(Number(formatOpenMetricsTimestamp(t)) * 1000) !== t,
      ),
    );
    expect(bad).toEqual([]);
  });

  it('has every metric and label the corpus queries, for three instances', () => {
    const names = new Set(series.map((s) => s.labels.__name__));
    for (const n of [
      'demo_memory_usage_bytes',
      'demo_cpu_usage_seconds_total',
      'demo_api_request_duration_seconds_bucket',
      'demo_api_request_duration_seconds_sum',
      'demo_num_cpus',
      'demo_disk_usage_bytes',
      'demo_batch_last_success_timestamp_seconds',
      'demo_intermittent_metric',
    ]) {
      expect(names.has(n)).toBe(true);
    }
    expect(new Set(series.map((s) => s.labels.instance))).toEqual(new Set(DEMO_INSTANCES));
    const types = new Set(
      series.filter((s) => s.labels.__name__ === 'demo_memory_usage_bytes').map((s) => s.labels.type),
    );
    expect(types).toEqual(new Set(['buffers', 'cached', 'free', 'used']));
    const bucket = series.find((s) => s.labels.__name__ === 'demo_api_request_duration_seconds_bucket')!;
    expect(Object.keys(bucket.labels).sort()).toEqual([
      '__name__',
      'instance',
      'job',
      'le',
      'method',
      'path',
      'status',
    ]);
  });

  it('expands variants as the tester does: the cross product, first argument outermost', () => {
    const cases = expandCorpus(
      [
        'test_cases:',
        "  - query: '{{.extrapolatedRateFunc}}(x[{{.range}}])'",
        "    variant_args: ['extrapolatedRateFunc', 'range']",
        '  - query: \'{__name__=~".*"}\'',
        '    should_fail: true',
      ].join('\n'),
    );
    expect(cases).toHaveLength(3 * 6 + 1);
    expect(cases.slice(0, 2).map((c) => c.query)).toEqual(['delta(x[1s])', 'delta(x[15s])']);
    expect(cases[6]!.query).toBe('rate(x[1s])');
    expect(cases[18]).toEqual({ query: '{__name__=~".*"}', template: '{__name__=~".*"}', shouldFail: true });
  });
});
