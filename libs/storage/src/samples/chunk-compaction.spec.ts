import { STALE_NAN, isStaleNaN } from '@arcwatch/contracts';
import fc from 'fast-check';
import { ChunkStates, appendKnown, mergeChunk, type EncodedChunk } from './chunk-compaction';

/** What the store reads of a stored row to check a kept state against it. */
const sized = (c: EncodedChunk) => ({ count: c.count, bytes: c.data.byteLength });
import { isDecimalChunk } from './decimal-chunk.codec';
import { wordsOf } from './sample-merge';
import { decodeChunk, encodeChunk } from './chunk.codec';

const BUCKET = 1_700_000_000_000;

function samples(ts: number[], values: number[]) {
  return { timestamps: Float64Array.from(ts), words: wordsOf(Float64Array.from(values)) };
}

function stored(ts: number[], values: number[]) {
  const s = samples(ts, values);
  return { count: ts.length, data: encodeChunk(s.timestamps, s.words, ts.length) };
}

function decoded(c: { count: number; data: Uint8Array }): { ts: number[]; values: number[] } {
  const ts = new Float64Array(c.count);
  const values = new Float64Array(c.count);
  decodeChunk(c.data, c.count, ts, wordsOf(values));
  return { ts: Array.from(ts), values: Array.from(values) };
}

describe('mergeChunk', () => {
  it('appends samples after the stored ones: the same chunk as encoding them all at once', () => {
    const ts = Array.from({ length: 300 }, (_, i) => BUCKET + i * 1000);
    const values = ts.map((_, i) => 40 + ((i * 7) % 13) / 4);
    const out = mergeChunk(
      { seriesId: 7, startMs: BUCKET, samples: samples(ts.slice(240), values.slice(240)) },
      stored(ts.slice(0, 240), values.slice(0, 240)),
    );
    const whole = encodeChunk(Float64Array.from(ts), wordsOf(Float64Array.from(values)), ts.length);
    expect(out).toMatchObject({ seriesId: 7, startMs: BUCKET, count: 300, endMs: ts[299] });
    expect(Buffer.from(out.data).equals(Buffer.from(whole))).toBe(true);
    expect(decoded(out)).toEqual({ ts, values });
  });

  it('merges samples that reach back into the stored ones, the stored value winning on a tie', () => {
    const out = mergeChunk(
      { seriesId: 1, startMs: BUCKET, samples: samples([BUCKET + 1000, BUCKET + 1500, BUCKET + 4000], [99, 5, 6]) },
      stored([BUCKET, BUCKET + 1000, BUCKET + 2000], [1, 2, 3]),
    );
    expect(out.count).toBe(5);
    expect(decoded(out)).toEqual({
      ts: [BUCKET, BUCKET + 1000, BUCKET + 1500, BUCKET + 2000, BUCKET + 4000],
      values: [1, 2, 5, 3, 6],
    });
  });

  it('drops a replayed sample at the stored chunk’s last timestamp instead of appending it', () => {
    const out = mergeChunk(
      { seriesId: 1, startMs: BUCKET, samples: samples([BUCKET + 2000, BUCKET + 3000], [30, 4]) },
      stored([BUCKET, BUCKET + 1000, BUCKET + 2000], [1, 2, 3]),
    );
    expect(decoded(out)).toEqual({ ts: [BUCKET, BUCKET + 1000, BUCKET + 2000, BUCKET + 3000], values: [1, 2, 3, 4] });
  });

  it('encodes a decimal chunk again when an appended value does not fit it: a new digit, then a stale marker', () => {
    const ts = Array.from({ length: 6 }, (_, i) => BUCKET + i * 15_000);
    const first = stored(ts.slice(0, 3), [1.5, 2.5, 3]);
    expect(isDecimalChunk(first.data)).toBe(true);
    expect(first.data[1]).toBe(1); // one digit after the point

    const finer = mergeChunk({ seriesId: 1, startMs: BUCKET, samples: samples(ts.slice(3, 5), [3.25, 4]) }, first);
    expect(isDecimalChunk(finer.data)).toBe(true);
    expect(finer.data[1]).toBe(2);
    expect(decoded(finer)).toEqual({ ts: ts.slice(0, 5), values: [1.5, 2.5, 3, 3.25, 4] });

    const stale = new Float64Array(1);
    stale[0] = STALE_NAN;
    const out = mergeChunk(
      { seriesId: 1, startMs: BUCKET, samples: { timestamps: Float64Array.of(ts[5]!), words: wordsOf(stale) } },
      finer,
    );
    expect(isDecimalChunk(out.data)).toBe(false);
    expect(out.count).toBe(6);
    const values = new Float64Array(6);
    decodeChunk(out.data, 6, new Float64Array(6), wordsOf(values));
    expect(Array.from(values.subarray(0, 5))).toEqual([1.5, 2.5, 3, 3.25, 4]);
    expect(isStaleNaN(values[5]!)).toBe(true);
  });

  it('appends with a known state exactly as through a decode: chunk bytes, count and rollups, pass after pass', () => {
    const HOUR = 3_600_000;
    const value = fc.oneof(
      fc.integer({ min: 0, max: 100 }),
      fc.integer({ min: 0, max: 10 ** 6 }).map((m) => m / 1e4),
      fc.constantFrom(NaN, STALE_NAN, 0.1 + 0.2),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.tuple(fc.integer({ min: 1, max: 120_000 }), value), { minLength: 1, maxLength: 30 }), {
          minLength: 2,
          maxLength: 6,
        }),
        (passes) => {
          const states = new ChunkStates();
          let t = BUCKET;
          let viaState: EncodedChunk | undefined;
          let viaDecode: EncodedChunk | undefined;
          for (const pass of passes) {
            const ts = pass.map(([d]) => (t += d));
            const values = new Float64Array(ts.length);
            pass.forEach(([, v], i) => (values[i] = v));
            const pending = { seriesId: 3, startMs: BUCKET, samples: samples(ts, Array.from(values)) };
            pending.samples.words.set(wordsOf(values)); // keep NaN payloads (the stale marker)
            const known = viaState && states.get(3, BUCKET, sized(viaState));
            if (viaState) expect(known).toBeDefined();
            // without the stored bytes: the new ones, spliced onto the stored row as PostgreSQL does
            const appended = known && appendKnown(pending, known, [HOUR]);
            const spliced =
              appended &&
              Buffer.concat([viaState!.data.subarray(0, appended.append.keep), appended.append.suffix]).toString('hex');
            viaState = mergeChunk(pending, viaState, [HOUR], known);
            viaDecode = mergeChunk(pending, viaDecode, [HOUR]);
            states.set(viaState);
            expect(viaState.count).toBe(viaDecode.count);
            expect(Buffer.from(viaState.data).toString('hex')).toBe(Buffer.from(viaDecode.data).toString('hex'));
            if (appended) {
              expect(spliced).toBe(Buffer.from(viaDecode.data).toString('hex'));
              expect(appended.state).toEqual(viaState.state);
            }
            expect(Buffer.from(viaState.rollups.get(HOUR)!).toString('hex')).toBe(
              Buffer.from(viaDecode.rollups.get(HOUR)!).toString('hex'),
            );
          }
        },
      ),
    );
  });

  it('uses a known state only while the stored row is the one it describes', () => {
    const states = new ChunkStates();
    const first = mergeChunk({ seriesId: 1, startMs: BUCKET, samples: samples([BUCKET + 1000], [1]) }, undefined, []);
    states.set(first);
    expect(states.get(1, BUCKET, sized(first))).toBe(first.state);
    // another writer appended: same key, more samples
    const other = mergeChunk({ seriesId: 1, startMs: BUCKET, samples: samples([BUCKET + 2000], [2]) }, first, []);
    expect(states.get(1, BUCKET, sized(other))).toBeUndefined();
    expect(states.get(2, BUCKET, sized(first))).toBeUndefined();
    states.forgetBefore(BUCKET + 1);
    expect(states.size).toBe(0);
  });
});
