import fc from 'fast-check';
import type { Labels } from '@arcwatch/contracts';
import { detectFormat } from './detect-format';
import { parseExposition } from './exposition-parser';
import type { ExpositionFormat, MetricFamily, Sample } from './types';
import { writeExposition } from './writer';

/** Gauges only: every value, timestamp and label text is legal for them in both formats. */
const labelValue = fc.string({
  unit: fc.constantFrom('a', 'Z', '0', ' ', '"', '\\', '\n', '{', '}', '#', ',', '=', 'é', '😀'),
  maxLength: 8,
});
const labels: fc.Arbitrary<Labels> = fc.dictionary(fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,6}$/), labelValue, {
  maxKeys: 3,
});
const value = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 9007199254740993));

function family(name: string, help: string | undefined, format: ExpositionFormat): MetricFamily {
  const f: MetricFamily = { name, type: format === 'openmetrics' ? 'gauge' : 'gauge' };
  if (help !== undefined) f.help = help;
  return f;
}

const exposition = (format: ExpositionFormat) =>
  fc
    .uniqueArray(fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,8}$/), { minLength: 1, maxLength: 4 })
    .chain((names) =>
      fc.tuple(
        fc.tuple(...names.map((n) => fc.option(labelValue, { nil: undefined }).map((h) => family(n, h, format)))),
        fc.array(
          fc.record({
            family: fc.integer({ min: 0, max: names.length - 1 }),
            labels,
            value,
            // One timestamp for the whole body: OpenMetrics wants timestamps on all or none.
          }),
          { maxLength: 12 },
        ),
        fc.option(fc.integer({ min: -1e12, max: 4e12 }), { nil: undefined }),
      ),
    )
    .map(([families, raw, ts]) => {
      // One sample per label set and family, as both formats require of a single scrape.
      const seen = new Set<string>();
      const samples: Sample[] = [];
      for (const r of [...raw].sort((a, b) => a.family - b.family)) {
        const key = `${r.family}|${JSON.stringify(Object.entries(r.labels).sort())}`;
        if (seen.has(key)) continue;
        seen.add(key);
        samples.push({
          name: families[r.family].name,
          labels: r.labels,
          value: r.value,
          timestampMs: ts,
          exemplar: undefined,
          family: r.family,
        });
      }
      return { families: [...families], samples };
    });

describe('writeExposition', () => {
  it.each(['prometheus', 'openmetrics'] as const)('round-trips %s: parse(write(x)) equals x', (format) => {
    fc.assert(
      fc.property(exposition(format), ({ families, samples }) => {
        const text = writeExposition(families, samples, format);
        const back = parseExposition(text, { format, blankSentinels: 'none' });
        expect(back.errors).toEqual([]);
        expect(back.families).toEqual(families);
        expect(back.samples).toEqual(samples);
        expect(detectFormat(undefined, text)).toBe(format);
      }),
      { numRuns: 300 },
    );
  });

  it('writes escaping, special floats, timestamps and exemplars as each format wants', () => {
    const families: MetricFamily[] = [
      { name: 'req', type: 'counter', help: 'a "quoted"\nhelp \\', unit: undefined },
      { name: 'lat_seconds', type: 'histogram', unit: 'seconds' },
    ];
    const samples: Sample[] = [
      {
        name: 'req_total',
        labels: { path: '/a"b\\c\nd' },
        value: Infinity,
        timestampMs: 1500,
        family: 0,
        exemplar: { labels: { trace: 'x' }, value: 1, timestampMs: 1250 },
      },
      { name: 'lat_seconds_bucket', labels: { le: '+Inf' }, value: NaN, family: 1 },
    ];
    expect(writeExposition(families, samples, 'prometheus')).toBe(
      [
        '# HELP req a "quoted"\\nhelp \\\\',
        '# TYPE req counter',
        'req_total{path="/a\\"b\\\\c\\nd"} +Inf 1500',
        '# TYPE lat_seconds histogram',
        'lat_seconds_bucket{le="+Inf"} NaN',
        '',
      ].join('\n'),
    );
    expect(writeExposition(families, samples, 'openmetrics')).toBe(
      [
        '# HELP req a \\"quoted\\"\\nhelp \\\\',
        '# TYPE req counter',
        'req_total{path="/a\\"b\\\\c\\nd"} +Inf 1.5 # {trace="x"} 1 1.25',
        '# TYPE lat_seconds histogram',
        '# UNIT lat_seconds seconds',
        'lat_seconds_bucket{le="+Inf"} NaN',
        '# EOF',
        '',
      ].join('\n'),
    );
  });

  it('places samples without a family index under the family their name extends', () => {
    const text = writeExposition(
      [{ name: 'h', type: 'summary' }],
      [{ name: 'h_sum', labels: {}, value: 2, family: -1 }],
      'prometheus',
    );
    expect(text).toBe('# TYPE h summary\nh_sum 2\n');
  });

  it('maps types each format lacks: untyped <-> unknown, OpenMetrics-only types to untyped', () => {
    const families: MetricFamily[] = [
      { name: 'u', type: 'untyped' },
      { name: 's', type: 'stateset' },
    ];
    expect(writeExposition(families, [], 'openmetrics')).toBe('# TYPE u unknown\n# TYPE s stateset\n# EOF\n');
    expect(writeExposition(families, [], 'prometheus')).toBe('# TYPE u untyped\n# TYPE s untyped\n');
  });
});

describe('detectFormat', () => {
  it('uses the Content-Type first, then the # EOF terminator', () => {
    expect(detectFormat('application/openmetrics-text; version=1.0.0; charset=utf-8')).toBe('openmetrics');
    expect(detectFormat('text/plain; version=0.0.4')).toBe('prometheus');
    expect(detectFormat(undefined, 'a 1\n# EOF\n')).toBe('openmetrics');
    expect(detectFormat(undefined, 'a 1\n# EOF')).toBe('openmetrics');
    expect(detectFormat(undefined, new TextEncoder().encode('a 1\n# EOF\n'))).toBe('openmetrics');
    expect(detectFormat(undefined, 'a 1\n# EOFX\n')).toBe('prometheus');
    expect(detectFormat(undefined, 'a 1\n')).toBe('prometheus');
    expect(detectFormat()).toBe('prometheus');
  });
});
