import fc from 'fast-check';
import { formatMicro, largestRemainder, parseMicro, parseScaledDecimal, roundHalfEven } from './money';

describe('money', () => {
  it('parses and prints decimal strings exactly', () => {
    expect(parseMicro('12.29')).toBe(12_290_000n);
    expect(parseMicro('-0.000001')).toBe(-1n);
    expect(parseMicro('3.7907500')).toBe(3_790_750n);
    expect(() => parseMicro('0.0000004')).toThrow(/more than 6 decimal places/);
    expect(() => parseMicro('1e3')).toThrow(/not a decimal/);
    expect(parseScaledDecimal('0.00000080000', 12)).toBe(800_000n);
    expect(formatMicro(1_234_567n)).toBe('1.234567');
    expect(formatMicro(5_000_000n)).toBe('5.00');
    expect(formatMicro(-50n)).toBe('-0.00005');
    expect(roundHalfEven(5n, 2n)).toBe(2n);
    expect(roundHalfEven(7n, 2n)).toBe(4n);
    expect(roundHalfEven(-7n, 2n)).toBe(-4n);
  });

  it('largest remainder: 100 over 1:1:1 gives 34, 33, 33 (ties to the first)', () => {
    expect(largestRemainder(100n, [1n, 1n, 1n])).toEqual([34n, 33n, 33n]);
    expect(largestRemainder(-100n, [1n, 1n, 1n])).toEqual([-34n, -33n, -33n]);
    expect(largestRemainder(10n, [0n, 3n, 0n])).toEqual([0n, 10n, 0n]);
    expect(() => largestRemainder(1n, [0n, 0n])).toThrow(/zero weights/);
  });

  it('largest remainder always sums to the total and never strays a unit from the quota', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 1, maxLength: 30 }),
        (total, weights) => {
          fc.pre(weights.some((w) => w > 0n));
          const parts = largestRemainder(total, weights);
          const sum = weights.reduce((a, b) => a + b, 0n);
          if (parts.reduce((a, b) => a + b, 0n) !== total) return false;
          return parts.every((p, i) => {
            const exact = total * (weights[i] as bigint); // quota · sum
            const d = p * sum - exact;
            return (d < 0n ? -d : d) < sum;
          });
        },
      ),
      { numRuns: 3000 },
    );
  });
});
