import { STALE_NAN, isStaleNaN } from '@arcwatch/contracts';
import fc from 'fast-check';
import { wordsOf } from './sample-merge';
import { appendChunk, decodeChunk, encodeChunk, encodeXorChunk } from './chunk.codec';

function roundTrip(
  ts: number[],
  values: number[] | Float64Array,
): { ts: Float64Array; values: Float64Array; bytes: number } {
  const v = values instanceof Float64Array ? values : Float64Array.from(values);
  const data = encodeChunk(ts, wordsOf(v), ts.length);
  const outTs = new Float64Array(ts.length);
  const outV = new Float64Array(ts.length);
  decodeChunk(data, ts.length, outTs, wordsOf(outV));
  return { ts: outTs, values: outV, bytes: data.length };
}

function bits(x: Float64Array): string[] {
  return Array.from(wordsOf(x), (w) => w.toString(16));
}

describe('chunk codec (XOR, and the choice of encoding)', () => {
  it('round-trips special values bit-exactly, the staleness marker included', () => {
    const ts = [
      1_700_000_000_000, 1_700_000_015_000, 1_700_000_030_000, 1_700_000_045_000, 1_700_000_060_000, 1_700_000_075_000,
      1_700_000_090_000,
    ];
    // a typed array, element by element: V8 canonicalises NaNs stored in plain double arrays
    const values = new Float64Array(7);
    [1, NaN, 0, Infinity, -Infinity, -0, 5e-324].forEach((v, i) => (values[i] = v));
    values[2] = STALE_NAN;
    expect(isStaleNaN(values[2]!)).toBe(true);
    const out = roundTrip(ts, values);
    expect(Array.from(out.ts)).toEqual(ts);
    expect(bits(out.values)).toEqual(bits(values));
    expect(isStaleNaN(out.values[2]!)).toBe(true);
    expect(isStaleNaN(out.values[1]!)).toBe(false);
  });

  it('stores a regular 15 s gauge in about two bytes per sample or less', () => {
    const ts = Array.from({ length: 480 }, (_, i) => 1_700_000_000_000 + i * 15_000);
    const values = ts.map((_, i) => 50 + (i % 7));
    const out = roundTrip(ts, values);
    expect(Array.from(out.values)).toEqual(values);
    expect(out.bytes / ts.length).toBeLessThan(2);
  });

  it('handles irregular and large timestamp jumps', () => {
    const ts = [0, 1, 10_000, 10_001, 5_000_000_000, 5_000_000_000 + 524_300, 9_007_199_254_000];
    const out = roundTrip(
      ts,
      ts.map((t) => t / 3),
    );
    expect(Array.from(out.ts)).toEqual(ts);
    expect(Array.from(out.values)).toEqual(ts.map((t) => t / 3));
  });

  it('round-trips arbitrary ascending timestamps and arbitrary doubles', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 2 ** 40 }), fc.double()), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 2 ** 42 }),
        (pairs, start) => {
          let t = start;
          const ts = pairs.map(([d]) => (t += d));
          const values = pairs.map(([, v]) => v);
          const out = roundTrip(ts, values);
          expect(Array.from(out.ts)).toEqual(ts);
          expect(bits(out.values)).toEqual(bits(Float64Array.from(values)));
        },
      ),
    );
  });

  it('appends to an XOR chunk bit for bit as encoding all the samples at once would', () => {
    const sample = fc.tuple(
      fc.integer({ min: 1, max: 2 ** 33 }),
      // repeated values and a fixed window exercise the '0' and reuse-window branches
      fc.oneof(fc.double(), fc.constantFrom(0, 1, 42.5, NaN, STALE_NAN), fc.integer({ min: 0, max: 100 })),
    );
    fc.assert(
      fc.property(
        fc.array(sample, { minLength: 1, maxLength: 40 }),
        fc.array(sample, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 2 ** 42 }),
        (first, second, start) => {
          let t = start;
          const ts = [...first, ...second].map(([d]) => (t += d));
          const values = new Float64Array(ts.length);
          [...first, ...second].forEach(([, v], i) => (values[i] = v));
          const words = wordsOf(values);
          const k = first.length;
          const head = encodeXorChunk(ts.slice(0, k), words.subarray(0, 2 * k), k);
          const tail = decodeChunk(head, k, new Float64Array(k), new Uint32Array(2 * k));
          expect(tail.t).toBe(ts[k - 1]);
          const appended = appendChunk(head, tail, ts.slice(k), words.subarray(2 * k), ts.length - k);
          expect(Buffer.from(appended!).toString('hex')).toBe(
            Buffer.from(encodeXorChunk(ts, words, ts.length)).toString('hex'),
          );
          // the stored chunk is left as it was
          expect(Buffer.from(head).toString('hex')).toBe(
            Buffer.from(encodeXorChunk(ts.slice(0, k), words.subarray(0, 2 * k), k)).toString('hex'),
          );
        },
      ),
    );
  });
});
