import { STALE_NAN } from '@arcwatch/contracts';
import fc from 'fast-check';
import {
  RollupColumns,
  appendPartials,
  decodeRollupPieces,
  decodeRollupRows,
  encodeRollup,
  extendRollup,
  rollupWithState,
  splitRollupRows,
} from './rollup.codec';
import { wordsOf } from './sample-merge';

const HOUR = 3_600_000;
const C = Date.UTC(2025, 0, 1, 2); // a 2 h chunk start

/** 'stale' becomes the marker, stored element-wise: a JS array of doubles may not keep its NaN payload. */
function float64s(vs: Array<number | 'stale'>): Float64Array {
  const out = new Float64Array(vs.length);
  vs.forEach((v, i) => (out[i] = v === 'stale' ? STALE_NAN : v));
  return out;
}

/** One stored row as selectRollupRows returns a series' rows: int8 chunk start (big-endian), then the data. */
function asRow(data: Uint8Array, chunkStartMs = C): Buffer {
  const row = Buffer.alloc(8 + data.length);
  row.writeBigInt64BE(BigInt(chunkStartMs), 0);
  row.set(data, 8);
  return row;
}

function partials(ts: number[], vs: Array<number | 'stale'>, res = HOUR): RollupColumns {
  const out = new RollupColumns();
  appendPartials(out, Float64Array.from(ts), wordsOf(float64s(vs)), res);
  return out;
}

describe('rollup partials', () => {
  it('split a chunk at bucket ends (end - 1 h, end], the sample at the chunk start on its own', () => {
    const p = partials([C, C + 1000, C + HOUR, C + HOUR + 1, C + 2 * HOUR - 1], [5, 3, 9, 1, 4]);
    const d = p.toSeriesData({});
    expect(Array.from(d.ends)).toEqual([C, C + HOUR, C + 2 * HOUR]);
    expect(Array.from(d.count)).toEqual([1, 2, 2]);
    expect(Array.from(d.sum)).toEqual([5, 12, 5]);
    expect(Array.from(d.min)).toEqual([5, 3, 1]);
    expect(Array.from(d.max)).toEqual([5, 9, 4]);
    expect(Array.from(d.firstTs)).toEqual([C, C + 1000, C + HOUR + 1]);
    expect(Array.from(d.lastV)).toEqual([5, 9, 4]);
    expect(Array.from(d.corr)).toEqual([0, 0, 0]);
  });

  it('count stale markers as no sample, keep NaN out of min and max until only NaN is left, and sum counter resets', () => {
    const p = partials([C + 1, C + 2, C + 3, C + 4, C + 5], [NaN, 10, 'stale', 4, 2]);
    const d = p.toSeriesData({});
    expect(Array.from(d.count)).toEqual([4]);
    expect(Array.from(d.min)).toEqual([2]);
    expect(Array.from(d.max)).toEqual([10]);
    // 10 → 4 and 4 → 2 are resets; NaN → 10 is not
    expect(Array.from(d.corr)).toEqual([14]);
    expect(Array.from(d.staleAfter)).toEqual([NaN]);
    // markers only: a partial of no sample that says so, for instant selectors
    const only = partials([C + 1, C + 2], ['stale', 'stale']).toSeriesData({});
    expect([Array.from(only.ends), Array.from(only.count), Array.from(only.staleAfter)]).toEqual([
      [C + HOUR],
      [0],
      [C + 2],
    ]);
    // a marker after the last sample is kept; one before it is not
    expect(Array.from(partials([C + 1, C + 2], [1, 'stale']).staleAfter.subarray(0, 1))).toEqual([C + 2]);
    expect(Array.from(partials([C + 1, C + 2], ['stale', 1]).staleAfter.subarray(0, 1))).toEqual([NaN]);
    expect(Number.isNaN(partials([C + 1, C + 2], [NaN, NaN]).min[0])).toBe(true);
  });

  it('decode to what they encoded, one row or several concatenated with their chunk starts', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 2 * HOUR - 1 }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.oneof(fc.double(), fc.constant<'stale'>('stale'), fc.integer({ min: -5, max: 5 })), {
          minLength: 60,
          maxLength: 60,
        }),
        fc.constantFrom(HOUR, 5 * 60_000, 2 * HOUR),
        (offsets, values, res) => {
          const ts = offsets.sort((a, b) => a - b).map((o) => C + o);
          const vs = values.slice(0, ts.length);
          const words = wordsOf(float64s(vs));
          const direct = partials(ts, vs, res).toSeriesData({});
          const data = encodeRollup(C, Float64Array.from(ts), words, res);
          const one = new RollupColumns();
          decodeRollupRows(one, asRow(data));
          expect(one.toSeriesData({})).toEqual(direct);
          const two = new RollupColumns();
          decodeRollupRows(two, Buffer.concat([asRow(data), asRow(data)]));
          expect(two.length).toBe(2 * direct.ends.length);
        },
      ),
    );
  });

  it('cut concatenated rows into one piece per row, which decode in pieces as the whole does', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            offsets: fc.uniqueArray(fc.integer({ min: 0, max: 2 * HOUR - 1 }), { minLength: 1, maxLength: 30 }),
            values: fc.array(fc.oneof(fc.double(), fc.constant<'stale'>('stale')), { minLength: 30, maxLength: 30 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        (chunks) => {
          const rows = chunks.map((c, k) => {
            const start = C + k * 2 * HOUR;
            const ts = Float64Array.from(c.offsets.sort((a, b) => a - b).map((o) => start + o));
            return asRow(encodeRollup(start, ts, wordsOf(float64s(c.values.slice(0, ts.length))), HOUR), start);
          });
          const whole = Buffer.concat(rows);
          const pieces = splitRollupRows(whole);
          expect(pieces.map((p) => p.chunkStartMs)).toEqual(chunks.map((_, k) => C + k * 2 * HOUR));
          expect(pieces.map((p) => Buffer.from(p.bytes))).toEqual(rows);
          const fromWhole = new RollupColumns();
          decodeRollupRows(fromWhole, whole);
          const fromPieces = new RollupColumns();
          decodeRollupPieces(
            fromPieces,
            pieces.map((p) => p.bytes),
          );
          expect(fromPieces.toSeriesData({})).toEqual(fromWhole.toSeriesData({}));
        },
      ),
    );
    const one = encodeRollup(C, Float64Array.from([C + 5, C + 6]), wordsOf(Float64Array.from([1, 2])), HOUR);
    expect(() => splitRollupRows(asRow(one).subarray(0, 8 + one.length - 1))).toThrow(/cut short/);
    expect(splitRollupRows(new Uint8Array(0))).toEqual([]);
    // a piece is one row: two rows in one piece, or a row cut short, are refused
    expect(() => decodeRollupPieces(new RollupColumns(), [Buffer.concat([asRow(one), asRow(one)])])).toThrow(
      /not one row/,
    );
    expect(() => decodeRollupPieces(new RollupColumns(), [asRow(one).subarray(0, 8 + one.length - 1)])).toThrow(
      /cut short/,
    );
  });

  it('refuse a row cut short or of another format', () => {
    const data = encodeRollup(C, Float64Array.from([C + 5, C + 6]), wordsOf(Float64Array.from([1, 2])), HOUR);
    expect(() => decodeRollupRows(new RollupColumns(), asRow(data.subarray(0, data.length - 1)))).toThrow(/cut short/);
    const other = Uint8Array.from(data);
    other[0] = 9;
    expect(() => decodeRollupRows(new RollupColumns(), asRow(other))).toThrow(/unknown format 9/);
  });

  it('extends a rollup with appended samples byte for byte as encoding all the samples at once', () => {
    const value = fc.oneof(
      fc.double({ noNaN: false }),
      fc.integer({ min: 0, max: 50 }),
      fc.constantFrom<number | 'stale'>('stale', 0, NaN, Infinity),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 40 * 60_000 }), value), { minLength: 2, maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 58 }), { minLength: 1, maxLength: 3 }),
        fc.constantFrom(HOUR, 15 * 60_000),
        (steps, cuts, res) => {
          let t = C - 1 + (steps[0]![0] % 2); // starts at the chunk start or just before it
          const ts = Float64Array.from(steps, ([d]) => (t = Math.min(t + d, C + 2 * HOUR - 1)));
          const unique = ts.filter((x, i) => i === 0 || x > ts[i - 1]!);
          const n = unique.length;
          const values = float64s(steps.slice(0, n).map(([, v]) => v));
          const words = wordsOf(values);
          const points = [...new Set(cuts.map((c) => Math.min(c, n - 1)))].sort((a, b) => a - b);
          let { data, state } = rollupWithState(
            C,
            unique.subarray(0, points[0]),
            words.subarray(0, 2 * points[0]!),
            res,
          );
          expect(Buffer.from(data).toString('hex')).toBe(
            Buffer.from(
              encodeRollup(C, unique.subarray(0, points[0]), words.subarray(0, 2 * points[0]!), res),
            ).toString('hex'),
          );
          for (let k = 0; k < points.length; k++) {
            const from = points[k]!;
            const to = k + 1 < points.length ? points[k + 1]! : n;
            ({ data, state } = extendRollup(
              state,
              C,
              unique.subarray(from, to),
              words.subarray(2 * from, 2 * to),
              res,
            ));
            expect(Buffer.from(data).toString('hex')).toBe(
              Buffer.from(encodeRollup(C, unique.subarray(0, to), words.subarray(0, 2 * to), res)).toString('hex'),
            );
          }
        },
      ),
    );
  });

  it('carries the compensated sum across an extension', () => {
    const ts = Float64Array.from([C + 1000, C + 2000, C + 3000, C + 4000]);
    const words = wordsOf(Float64Array.from([1e16, 1, 1, 1]));
    const first = rollupWithState(C, ts.subarray(0, 2), words.subarray(0, 4), HOUR);
    const { data } = extendRollup(first.state, C, ts.subarray(2), words.subarray(4), HOUR);
    const out = new RollupColumns();
    decodeRollupRows(out, asRow(data));
    expect(out.sum[0]).toBe(1e16 + 4); // 1e16 + 3, rounded to the nearest double
    expect(Buffer.from(data).equals(Buffer.from(encodeRollup(C, ts, words, HOUR)))).toBe(true);
  });
});
