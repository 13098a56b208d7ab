import fc from 'fast-check';
import {
  addValue,
  addValueInPlace,
  emptySketch,
  MAX_BINS,
  mergeSketches,
  quantile,
  type LatencySketch,
} from './latency-sketch';

const fromValues = (values: number[]): LatencySketch => values.reduce((s, v) => addValue(s, v), emptySketch());

function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))];
}

describe('latency sketch', () => {
  it('keeps at most MAX_BINS bins, folding the lowest, and keeps every value counted and the top exact', () => {
    // Values spread over more buckets than the sketch keeps: 1.02^k spans a bucket each at α = 1 %.
    const values = Array.from({ length: MAX_BINS + 500 }, (_, k) => 1e-6 * 1.02 ** k);
    const s = emptySketch();
    for (const v of values) addValueInPlace(s, v);
    expect(Object.keys(s.bins).length).toBe(MAX_BINS);
    expect(Object.values(s.bins).reduce((a, b) => a + b, 0) + s.zeroCount).toBe(values.length);
    expect(s.count).toBe(values.length);
    const top = values[values.length - 1];
    expect(Math.abs(quantile(s, 1) - top)).toBeLessThanOrEqual(top * 0.01);
    // Adding to a bin it has keeps the count of bins; a value below every bin folds into the lowest.
    addValueInPlace(s, top);
    addValueInPlace(s, 1e-8);
    expect(Object.keys(s.bins).length).toBe(MAX_BINS);
    expect(s.count).toBe(values.length + 2);
  });

  it('returns every quantile within 1% of the exact one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.001, max: 600_000, noNaN: true }), { minLength: 1, maxLength: 500 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, q) => {
          const exact = exactQuantile(values, q);
          const est = quantile(fromValues(values), q);
          expect(Math.abs(est - exact)).toBeLessThanOrEqual(exact * 0.01 + 1e-9);
        },
      ),
    );
  });

  it('merging minute sketches equals the sketch of the whole hour, in any grouping', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 120_000 }), { maxLength: 40 }), { minLength: 1, maxLength: 60 }),
        (minutes) => {
          const hour = fromValues(minutes.flat());
          const merged = minutes.map(fromValues).reduce(mergeSketches, emptySketch());
          const mergedBackwards = [...minutes].reverse().map(fromValues).reduce(mergeSketches, emptySketch());
          for (const q of [0.5, 0.9, 0.99]) {
            expect(quantile(merged, q)).toBe(quantile(hour, q));
            expect(quantile(mergedBackwards, q)).toBe(quantile(hour, q));
          }
          expect(merged.count).toBe(hour.count);
          expect(merged.bins).toEqual(hour.bins);
        },
      ),
    );
  });

  it('survives a JSON round trip, as stored', () => {
    const s = fromValues([5, 50, 500]);
    const back = JSON.parse(JSON.stringify(mergeSketches(emptySketch(), s))) as LatencySketch;
    expect(back).toEqual(s);
    expect(quantile(addValue(back, 1), 0)).toBe(1);
  });

  it('counts zero latencies and reports NaN for an empty sketch', () => {
    expect(quantile(emptySketch(), 0.5)).toBeNaN();
    const s = fromValues([0, 0, 0, 100]);
    expect(quantile(s, 0.5)).toBe(0);
    expect(quantile(s, 1)).toBe(100);
  });

  it('refuses negative values and sketches of different accuracy', () => {
    expect(() => addValue(emptySketch(), -1)).toThrow(RangeError);
    expect(() => mergeSketches(emptySketch(0.01), emptySketch(0.02))).toThrow(/accuracy/);
  });
});
