import fc from 'fast-check';
import { unstorableEscape } from './json-body';

describe('unstorableEscape', () => {
  it('finds NUL escapes and lone surrogates, with where they are', () => {
    expect(unstorableEscape('{"a":"x\\u0000y"}')).toEqual({ offset: 7, what: 'a NUL character (\\u0000)' });
    expect(unstorableEscape('{"a":"\\ud800"}')).toEqual({ offset: 6, what: 'a lone surrogate (\\ud800)' });
    expect(unstorableEscape('{"a":"\\uDFFF"}')).toEqual({ offset: 6, what: 'a lone surrogate (\\udfff)' });
    expect(unstorableEscape('{"a":"\\ud83d\\ude00", "b":"\\udc00"}')?.offset).toBe(26);
    expect(unstorableEscape('{"a":"\\ud83d\\u0041"}')?.what).toBe('a lone surrogate (\\ud83d)');
  });

  it('lets through what PostgreSQL stores: pairs, other escapes, escaped backslashes', () => {
    for (const ok of [
      '{"a":"plain"}',
      '{"a":"\\ud83d\\ude00 \\u00e9 \\u0001"}',
      '{"a":"\\\\u0000"}',
      '{"a":"\\\\\\\\ud800"}',
      '{"a":"\\\\\\u00e9"}',
    ])
      expect({ ok, found: unstorableEscape(ok) }).toEqual({ ok, found: undefined });
    expect(unstorableEscape('{"a":"\\\\\\u0000"}')?.offset).toBe(8);
  });

  it('agrees with JSON.parse on generated strings: refused exactly when the parsed text holds NUL or a lone surrogate', () => {
    const unstorable = (s: string): boolean =>
      s.includes('\u0000') || /\p{Cs}/u.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''));
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('\u0000', '\ud800', '\udc00', '\\u0000'))),
        (parts) => {
          const value = { list: parts, joined: parts.join('') };
          const text = JSON.stringify(value);
          const parsed = JSON.parse(text) as typeof value;
          const expected = parsed.list.some(unstorable) || unstorable(parsed.joined);
          expect(unstorableEscape(text) !== undefined).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
