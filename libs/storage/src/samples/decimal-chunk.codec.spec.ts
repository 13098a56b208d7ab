import { STALE_NAN } from '@arcwatch/contracts';
import fc from 'fast-check';
import { StorageError } from '../errors';
import { decimalScale, isDecimalChunk } from './decimal-chunk.codec';
import { wordsOf } from './sample-merge';
import { appendChunk, decodeChunk, encodeChunk, encodeXorChunk } from './chunk.codec';

const T0 = 1_764_547_200_000;

function decode(data: Uint8Array, count: number): { ts: number[]; words: string[] } {
  const ts = new Float64Array(count);
  const values = new Float64Array(count);
  decodeChunk(data, count, ts, wordsOf(values));
  return { ts: Array.from(ts), words: hex(values) };
}

function hex(values: Float64Array): string[] {
  return Array.from(wordsOf(values), (w) => w.toString(16));
}

function encode(ts: number[], values: Float64Array): Uint8Array {
  return encodeChunk(ts, wordsOf(values), ts.length);
}

/** A deterministic generator, so the size expectations do not move between runs. */
function lcg(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

const grid = (n: number, stepMs = 15_000): number[] => Array.from({ length: n }, (_, i) => T0 + i * stepMs);

/** A value with `digits` decimals, built the way exporters and parsers build them. */
const decimal = (digits: number): fc.Arbitrary<number> =>
  fc.integer({ min: -(10 ** 9), max: 10 ** 9 }).map((m) => Number(`${m}e-${digits}`));

describe('decimal chunk codec', () => {
  it('round-trips generated decimals bit-exactly at every scale, as a decimal chunk', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }).chain((digits) => fc.array(decimal(digits), { minLength: 1, maxLength: 80 })),
        fc.array(fc.integer({ min: 1, max: 2 ** 36 }), { minLength: 80, maxLength: 80 }),
        (list, gaps) => {
          let t = T0;
          const ts = list.map((_, i) => (t += gaps[i]!));
          const values = Float64Array.from(list);
          const data = encode(ts, values);
          expect(isDecimalChunk(data)).toBe(!list.some((v) => Object.is(v, -0)));
          expect(decode(data, ts.length)).toEqual({ ts, words: hex(values) });
        },
      ),
    );
  });

  it('round-trips any doubles, and keeps a chunk XOR when one value is not an exact short decimal', () => {
    const special = fc.constantFrom(NaN, STALE_NAN, Infinity, -Infinity, -0, 5e-324, 0.1 + 0.2, 1 / 3, 2 ** 60);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: -1000, max: 1000 }), decimal(3), special, fc.double()), {
          minLength: 1,
          maxLength: 60,
        }),
        (list) => {
          const values = new Float64Array(list.length);
          list.forEach((v, i) => (values[i] = v)); // element by element: NaN payloads kept
          const ts = grid(list.length);
          const data = encode(ts, values);
          expect(decode(data, ts.length)).toEqual({ ts, words: hex(values) });
          const allDecimal = decimalScale(wordsOf(values), 0, values.length) !== undefined;
          expect(isDecimalChunk(data)).toBe(allDecimal);
          if (list.some((v) => !Number.isFinite(v) || Object.is(v, -0) || v === 1 / 3 || v === 0.1 + 0.2))
            expect(isDecimalChunk(data)).toBe(false);
        },
      ),
    );
  });

  it('finds the smallest scale that holds every value', () => {
    const scale = (...v: number[]): number | undefined => decimalScale(wordsOf(Float64Array.from(v)), 0, v.length);
    expect(scale(1, 2, 300)).toBe(0);
    expect(scale(412.345, 7)).toBe(3);
    expect(scale(0.123456, 0.5)).toBe(6);
    expect(scale(1e-15)).toBe(15);
    expect(scale(1e-16)).toBeUndefined();
    expect(scale(2 ** 50)).toBeUndefined(); // past the mantissa limit
    expect(scale(2 ** 50 - 1)).toBe(0);
    expect(scale(1, NaN)).toBeUndefined();
  });

  it('never mistakes an XOR chunk for a decimal one, whatever its first timestamp', () => {
    fc.assert(
      fc.property(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), fc.double(), (t0, v) => {
        const data = encodeXorChunk([t0], wordsOf(Float64Array.of(v)), 1);
        expect(isDecimalChunk(data)).toBe(false);
      }),
    );
  });

  it('stores a noisy 6-decimal ratio in well under half of what XOR takes', () => {
    const rand = lcg(7);
    const ts = grid(480);
    const values = Float64Array.from(ts, () => Math.round((0.6 + (rand() - 0.5) * 0.1) * 1e6) / 1e6);
    const data = encode(ts, values);
    const xor = encodeXorChunk(ts, wordsOf(values), ts.length);
    expect(data[0]).toBe(0x80); // delta mode
    expect(data[1]).toBe(6);
    expect(data.length / ts.length).toBeLessThan(3);
    expect(xor.length / ts.length).toBeGreaterThan(6);
  });

  it('writes a counter growing at a steady rate as deltas of deltas', () => {
    const rand = lcg(3);
    const ts = grid(480);
    let v = 1e9;
    const values = Float64Array.from(ts, (_, i) => (v += 6_000_000 + i * 10 + Math.round(rand() * 20)));
    const data = encode(ts, values);
    expect(data[0]).toBe(0x81);
    expect(data.length / ts.length).toBeLessThan(1.2);
    expect(decode(data, ts.length).words).toEqual(hex(values));
  });

  it('appends to a decimal chunk, or declines when a new value needs another scale or encoding', () => {
    const part = fc.array(fc.oneof(decimal(2), decimal(4), fc.constantFrom(NaN, -0, 7)), {
      minLength: 1,
      maxLength: 40,
    });
    fc.assert(
      fc.property(
        fc.array(decimal(2), { minLength: 1, maxLength: 40 }),
        part,
        fc.integer({ min: 1, max: 60_000 }),
        (first, second, step) => {
          const ts = grid(first.length + second.length, step);
          const values = new Float64Array(ts.length);
          [...first, ...second].forEach((v, i) => (values[i] = v));
          const words = wordsOf(values);
          const k = first.length;
          const head = encodeChunk(ts.slice(0, k), words.subarray(0, 2 * k), k);
          const before = Buffer.from(head).toString('hex');
          if (!isDecimalChunk(head)) return; // a -0 in the first part: XOR, covered by the XOR spec
          const tail = decodeChunk(head, k, new Float64Array(k), new Uint32Array(2 * k));
          expect(tail.t).toBe(ts[k - 1]);
          const appended = appendChunk(head, tail, ts.slice(k), words.subarray(2 * k), ts.length - k);
          const fits =
            decimalScale(words, k, ts.length) !== undefined && decimalScale(words, k, ts.length, head[1]!) === head[1];
          if (!fits) {
            expect(appended).toBeUndefined();
          } else {
            expect(isDecimalChunk(appended!)).toBe(true);
            expect(decode(appended!, ts.length)).toEqual({ ts, words: hex(values) });
          }
          expect(Buffer.from(head).toString('hex')).toBe(before);
        },
      ),
    );
  });

  it('reports a truncated decimal chunk as corrupt', () => {
    const ts = grid(50);
    const data = encode(
      ts,
      Float64Array.from(ts, (_, i) => i * 1.5),
    );
    expect(isDecimalChunk(data)).toBe(true);
    expect(() => decode(data.subarray(0, data.length - 4), ts.length)).toThrow(StorageError);
  });
});
