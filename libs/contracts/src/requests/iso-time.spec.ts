import fc from 'fast-check';
import { isoTime, parseIsoTime } from './iso-time';

const viaDate = (ms: number) => new Date(ms).toISOString();

describe('isoTime', () => {
  it('writes what toISOString writes, for any millisecond of 1970 to 9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), (ms) => {
        expect(isoTime(ms)).toBe(viaDate(ms));
      }),
      { numRuns: 20_000 },
    );
  });

  it('keeps being right across days, in any order (the kept date part is replaced)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1_700_000_000_000, max: 1_700_000_000_000 + 5 * 86_400_000 })), (all) => {
        expect(all.map(isoTime)).toEqual(all.map(viaDate));
      }),
    );
  });

  it('hands the edges to Date: midnight, the last millisecond of a day, before 1970, six-digit years', () => {
    const edges = [
      0,
      86_399_999,
      86_400_000,
      Date.parse('2024-02-29T23:59:59.999Z'),
      Date.parse('2026-12-31T23:59:59.999Z'),
      -1,
      -86_400_001,
      253_402_300_799_999,
      253_402_300_800_000,
      8.64e15,
    ];
    expect(edges.map(isoTime)).toEqual(edges.map(viaDate));
    expect(isoTime(1.5)).toBe(viaDate(1.5));
    expect(isoTime(86_400_000)).toBe('1970-01-02T00:00:00.000Z');
  });

  it('throws as Date does for what is not a time', () => {
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
    expect(() => isoTime(Infinity)).toThrow(RangeError);
    expect(() => isoTime(8.64e15 + 1)).toThrow(RangeError);
  });
});

describe('parseIsoTime', () => {
  const same = (text: string) => expect(Object.is(parseIsoTime(text), Date.parse(text))).toBe(true);

  it('reads what Date.parse reads from any instant isoTime writes, 1970 to 9999 and before', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_000_000_000_000, max: 253_402_300_799_999 }), (ms) => {
        expect(parseIsoTime(viaDate(ms))).toBe(ms);
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees with Date.parse on text of the same shape with any digits (days past the month, hour 24, minute 60)', () => {
    const d = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
    fc.assert(
      fc.property(d(4), d(2), d(2), d(2), d(2), d(2), d(3), (y, mo, da, h, mi, s, ms) => {
        same(`${y}-${mo}-${da}T${h}:${mi}:${s}.${ms}Z`);
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees with Date.parse on any text, one day kept or not', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.constantFrom('2026-12-05T10:00:00.000Z', '2026-12-05T1x:00:00.000Z'))),
        (all) => {
          for (const text of all) same(text);
        },
      ),
    );
  });

  it('hands the other forms and the edge values to Date.parse', () => {
    for (const text of [
      '2026-12-05T10:00:00Z',
      '2026-12-05T10:00:00.000+02:00',
      '2026-12-05T10:00:00.0000Z',
      '2026-02-30T10:00:00.000Z',
      '2026-13-01T10:00:00.000Z',
      '2026-12-05T24:00:00.000Z',
      '2026-12-05T23:59:60.000Z',
      '2026-12-05 10:00:00.000Z',
      '2026-12-05T10-00:00.000Z',
      '+02026-12-05T10:00:00Z',
      '2026/12/05T10:00:00.000Z',
      '2026-12-05t10:00:00.000Z',
      '-026-12-05T10:00:00.000Z',
      'Sat Dec 05 2026 10:00',
      '',
    ])
      same(text);
    expect(parseIsoTime('2026-12-05T10:00:00.123Z')).toBe(Date.UTC(2026, 11, 5, 10, 0, 0, 123));
  });
});
