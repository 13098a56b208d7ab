import fc from 'fast-check';
import { ExpositionParser, parseExposition } from './exposition-parser';
import { LabelCache } from './label-cache';
import { sampleLabels } from './labels';

const prom = (text: string) => parseExposition(text, { format: 'prometheus' });
const om = (text: string) => parseExposition(text, { format: 'openmetrics' });

describe('text 0.0.4 values and timestamps', () => {
  it('reads special floats, exponents, signs and integer ms timestamps', () => {
    const r = prom('a NaN\nb +Inf\nc -Inf\nd 1.5e3\ne -0.25 1700000000123\nf 0000012\ng 9007199254740993\n');
    expect(r.errors).toEqual([]);
    expect(r.samples.map((s) => s.value)).toEqual([NaN, Infinity, -Infinity, 1500, -0.25, 12, 9007199254740992]);
    expect(r.samples[4].timestampMs).toBe(1700000000123);
    expect(r.samples[0].timestampMs).toBeUndefined();
  });

  it('reads every integer timestamp as Number() does: signs, leading zeros, past 15 digits', () => {
    fc.assert(
      fc.property(fc.constantFrom('', '+', '-'), fc.stringMatching(/^[0-9]{1,22}$/), (sign, digits) => {
        const r = prom(`a 1 ${sign}${digits}\n`);
        expect(r.errors).toEqual([]);
        expect(Object.is(r.samples[0].timestampMs, Number(sign + digits))).toBe(true);
      }),
    );
  });

  it('tolerates blanks and tabs between tokens, a trailing comma, CRLF and leading blanks', () => {
    const r = prom('  a { x = "1" , y="2", }\t 3 \t 17 \r\n');
    expect(r.errors).toEqual([]);
    expect(r.samples[0]).toMatchObject({ name: 'a', labels: { x: '1', y: '2' }, value: 3, timestampMs: 17 });
  });

  it('refuses fractional timestamps and keeps the good rest of the body', () => {
    const r = prom('a 1\nb 2 1.5\nc{x="1} 3\nd 4\n');
    expect(r.samples.map((s) => s.name)).toEqual(['a', 'd']);
    expect(r.errors).toEqual([
      { line: 2, column: 5, message: 'invalid timestamp "1.5" (integer milliseconds expected)', code: 'syntax' },
      { line: 3, column: 5, message: 'unterminated value for label "x"', code: 'syntax' },
    ]);
  });
});

describe('labels and escaping', () => {
  it('decodes \\n, \\" and \\\\ in label values and keeps other escapes as written', () => {
    const r = prom('a{v="line1\\nline2",q="say \\"hi\\"",b="back\\\\slash",o="\\d"} 1\n');
    expect(r.samples[0].labels).toEqual({ v: 'line1\nline2', q: 'say "hi"', b: 'back\\slash', o: '\\d' });
  });

  it('unescapes HELP (\\\\ and \\n in text 0.0.4; also \\" in OpenMetrics)', () => {
    expect(prom('# HELP a two\\nlines \\\\ and \\"\n').families[0].help).toBe('two\nlines \\ and \\"');
    expect(om('# HELP a say \\"x\\"\n# EOF\n').families[0].help).toBe('say "x"');
  });

  it('keeps "}" and "#" inside label values', () => {
    const r = prom('a{x="b{a}z # c"} 1\na{x="b{a}z # c"} 2\n');
    expect(r.samples.map((s) => s.labels.x)).toEqual(['b{a}z # c', 'b{a}z # c']);
  });

  it('reuses one frozen label object per label text, across scrapes with a shared cache', () => {
    const cache = new LabelCache();
    const body = 'a{gpu="0"} 1\na{gpu="1"} 1\nb{gpu="0"} 2\nb{gpu="1"} 2\n';
    const first = parseExposition(body, { labelCache: cache });
    const second = parseExposition(body, { labelCache: cache });
    expect(first.samples[0].labels).toBe(first.samples[2].labels);
    expect(first.samples[1].labels).toBe(second.samples[3].labels);
    expect(Object.isFrozen(first.samples[0].labels)).toBe(true);
    expect(cache.size).toBe(2);
  });

  it('gives the full label set with __name__ through sampleLabels, without touching labels', () => {
    const s = prom('vllm:num_requests_running{model_name="m"} 3\n').samples[0];
    expect(sampleLabels(s)).toEqual({ __name__: 'vllm:num_requests_running', model_name: 'm' });
    expect(s.labels).toEqual({ model_name: 'm' });
  });

  it('rejects a duplicate label name', () => {
    expect(prom('a{x="1",x="2"} 1\n').errors[0]).toMatchObject({ line: 1, column: 9, message: 'duplicate label "x"' });
  });
});

describe('families in text 0.0.4', () => {
  it('gives samples without TYPE an untyped family of their own name', () => {
    const r = prom('# HELP tgi_request_count Total requests\ntgi_request_count 4\nno_meta 1\n');
    expect(r.families).toEqual([
      { name: 'tgi_request_count', type: 'untyped', help: 'Total requests' },
      { name: 'no_meta', type: 'untyped' },
    ]);
  });

  it('keeps counters that do not end in _total (TGI) as counters', () => {
    const r = prom('# TYPE tgi_request_success counter\ntgi_request_success 12\n');
    expect(r.families[r.samples[0].family]).toEqual({ name: 'tgi_request_success', type: 'counter' });
  });

  it('reports a second TYPE and a TYPE after samples, the first declaration standing', () => {
    const r = prom('# TYPE a gauge\n# TYPE a counter\na 1\nb 1\n# TYPE b counter\n');
    expect(r.families).toEqual([
      { name: 'a', type: 'gauge' },
      { name: 'b', type: 'untyped' },
    ]);
    expect(r.errors.map((e) => [e.line, e.message])).toEqual([
      [2, 'second TYPE line for metric name "a"'],
      [5, 'TYPE line for "b" after its samples'],
    ]);
    expect(r.samples).toHaveLength(2);
  });

  it('puts _bucket/_sum/_count under their histogram even when _sum comes first (SGLang)', () => {
    const r = prom('# TYPE h histogram\nh_sum 3\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_count 2\n');
    expect(r.families).toHaveLength(1);
    expect(r.samples.every((s) => s.family === 0)).toBe(true);
  });

  it('reads HELP and TYPE the same with single spaces or any blanks between tokens', () => {
    const single = prom(
      '# HELP a  two  spaces kept \n# TYPE a gauge \r\n# HELP b\n# TYPE c\tcounter\n# HELP d\ttext\n',
    );
    const blanks = prom(
      '#  HELP\ta  two  spaces kept \n#\tTYPE  a \t gauge \r\n# HELP \t b\n#   TYPE c\tcounter\n# HELP\td\ttext\n',
    );
    const expected = [
      { name: 'a', type: 'gauge', help: ' two  spaces kept ' },
      { name: 'b', type: 'untyped', help: '' },
      { name: 'c', type: 'counter' },
      { name: 'd', type: 'untyped', help: 'text' },
    ];
    expect(single.families).toEqual(expected);
    expect(blanks.families).toEqual(expected);
    expect(single.errors).toEqual([]);
    expect(blanks.errors).toEqual([]);
  });

  it('refuses an invalid name in HELP or TYPE (and a sample line of that name), and ignores # HELPER', () => {
    const r = prom('# HELP 1a x\n1a 2\n# TYPE a-b gauge\n# HELPER a x\na 1\n');
    expect(r.errors.map((e) => [e.line, e.message])).toEqual([
      [1, 'invalid metric name "1a" in HELP'],
      [2, 'expected a metric name'],
      [3, 'invalid metric name "a-b" in TYPE'],
    ]);
    expect(r.families).toEqual([{ name: 'a', type: 'untyped' }]);
  });

  it('reads a sample named like the HELP/TYPE before it, or not, or as a prefix of it', () => {
    const r = prom('# HELP ab x\n# TYPE ab counter\nab 1\n# TYPE ab_x gauge\nab 2\n# HELP abc y\nab{l="1"} 3\nabc 4\n');
    expect(r.errors).toEqual([]);
    expect(r.samples.map((x) => [x.name, x.value, r.families[x.family].name])).toEqual([
      ['ab', 1, 'ab'],
      ['ab', 2, 'ab'],
      ['ab', 3, 'ab'],
      ['abc', 4, 'abc'],
    ]);
  });

  it('treats other comments and an OpenMetrics # EOF as comments', () => {
    const r = prom('# just a note\n#\n# EOF\na 1\n');
    expect(r.errors).toEqual([]);
    expect(r.samples).toHaveLength(1);
  });
});

describe('DCGM blank sentinels', () => {
  const body =
    '# TYPE DCGM_FI_DEV_ECC_DBE_VOL_TOTAL counter\nDCGM_FI_DEV_ECC_DBE_VOL_TOTAL{gpu="0"} 9223372036854775794\nDCGM_FI_DEV_ECC_DBE_VOL_TOTAL{gpu="1"} 0\nbig_uint_total 9223372036854775808\n';

  it('drops DCGM values at or above 2^63-16 and counts them, not as errors', () => {
    const r = prom(body);
    expect(r.dropped).toBe(1);
    expect(r.errors).toEqual([]);
    expect(r.samples.map((s) => [s.name, s.labels.gpu, s.value])).toEqual([
      ['DCGM_FI_DEV_ECC_DBE_VOL_TOTAL', '1', 0],
      ['big_uint_total', undefined, 9223372036854775808],
    ]);
  });

  it('can drop them everywhere or nowhere', () => {
    expect(parseExposition(body, { blankSentinels: 'all' }).dropped).toBe(2);
    expect(parseExposition(body, { blankSentinels: 'none' }).samples).toHaveLength(3);
  });
});

describe('OpenMetrics specifics', () => {
  it('converts float-second timestamps to ms and reads exemplars', () => {
    const r = om(
      '# TYPE a counter\na_total 3 1700000000.5 # {trace_id="abc"} 0.5 1700000000.25\na_created 1699999000 1700000000.5\n# EOF\n',
    );
    expect(r.errors).toEqual([]);
    expect(r.samples[0]).toMatchObject({
      timestampMs: 1700000000500,
      exemplar: { labels: { trace_id: 'abc' }, value: 0.5, timestampMs: 1700000000250 },
    });
    expect(r.families).toEqual([{ name: 'a', type: 'counter' }]);
  });

  it('rejects what text 0.0.4 would accept: blanks in label sets, comments, missing # EOF', () => {
    expect(om('a{x="1", y="2"} 1\n# EOF\n').errors[0]).toMatchObject({ line: 1, column: 9 });
    expect(om('# a comment\n# EOF\n').errors[0].line).toBe(1);
    expect(om('a 1\n').errors).toEqual([{ line: 1, message: 'missing "# EOF" at the end', code: 'eof' }]);
    expect(om('a 1\n# EOF\nb 2\n').errors).toEqual([
      { line: 3, column: 1, message: 'content after "# EOF"', code: 'eof' },
    ]);
  });
});

describe('streaming', () => {
  const body =
    '# HELP a A \\\\ help\n# TYPE a counter\na_total{x="é€😀",y="q\\"z"} 1 # {t="1"} 2\na_created 1.5\n# TYPE b histogram\nb_bucket{le="1"} 0\nb_bucket{le="+Inf"} 2\nb_sum 1\nb_count 2\n# EOF\n';

  it('gives the same result for any split of the body, as text or as UTF-8 bytes', () => {
    const whole = om(body);
    expect(whole.errors).toEqual([]);
    const bytes = new TextEncoder().encode(body);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 8 }),
        fc.boolean(),
        (cuts, asBytes) => {
          const points = [0, ...cuts.sort((x, y) => x - y), asBytes ? bytes.length : body.length];
          const parser = new ExpositionParser({ format: 'openmetrics' });
          for (let i = 1; i < points.length; i++) {
            parser.push(asBytes ? bytes.subarray(points[i - 1], points[i]) : body.slice(points[i - 1], points[i]));
          }
          const r = parser.end();
          expect(r.errors).toEqual([]);
          expect(r.samples).toEqual(whole.samples);
          expect(r.families).toEqual(whole.families);
        },
      ),
    );
  });

  it('hands over samples as they are read with takeSamples', () => {
    const parser = new ExpositionParser();
    parser.push('a 1\nb 2\nc');
    expect(parser.takeSamples().map((s) => s.name)).toEqual(['a', 'b']);
    parser.push(' 3\n');
    const r = parser.end();
    expect(r.samples.map((s) => s.name)).toEqual(['c']);
    expect(r.families.map((f) => f.name)).toEqual(['a', 'b', 'c']);
    expect(() => parser.push('d 4\n')).toThrow('push after end');
  });

  it('reports a body that is not UTF-8 and still reads the rest', () => {
    const r = parseExposition(
      new Uint8Array([0x61, 0x7b, 0x78, 0x3d, 0x22, 0xff, 0x22, 0x7d, 0x20, 0x31, 0x0a, 0x62, 0x20, 0x32, 0x0a]),
    );
    expect(r.errors).toEqual([{ line: 1, message: 'body is not valid UTF-8', code: 'encoding' }]);
    expect(r.samples.map((s) => [s.name, s.value])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });
});
