import fc from 'fast-check';
import { isoTime } from './iso-time';

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
