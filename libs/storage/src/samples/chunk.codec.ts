import { BitReader, BitWriter, readInt64, readTimestampDod, writeInt64, writeTimestampDod } from './bit-io';
import {
  appendDecimalSuffix,
  decimalScale,
  decodeDecimalChunk,
  encodeDecimalChunk,
  isDecimalChunk,
  isDecimalFormat,
  type DecimalMode,
  type DecimalTail,
} from './decimal-chunk.codec';

/**
 * The chunk encodings, and the functions every reader and writer of chunks calls: a chunk is
 * decimal (decimal-chunk.codec.ts) when all its values are exact short decimals, XOR otherwise;
 * the first byte tells which (docs/decisions/0010-decimal-chunks.md).
 *
 * XOR is Gorilla-style (Facebook 2015, as in Prometheus's XOR chunks). Timestamps: the first one
 * raw (64 bits), then the delta-of-delta of each one in a prefix code ('0' | '10'+14 | '110'+17 |
 * '1110'+20 | '1111'+64 bits). Values: the first one's raw IEEE-754 bits, then each one XORed with
 * the previous: '0' when equal, otherwise '1' and either the meaningful bits inside the previous
 * leading/trailing-zero window ('0') or a new window ('1' + 5 bits leading zeros + 6 bits length).
 * Values are handled as raw bits, never as numbers, so NaN payloads (the staleness marker) survive
 * bit-exactly.
 */

/**
 * Where an XOR encoder stands after a chunk's last sample: enough to append to the chunk without
 * re-encoding it. `leading` is -1 while no leading/trailing-zero window has been written.
 */
export interface XorTail {
  bitLength: number;
  t: number;
  delta: number;
  hi: number;
  lo: number;
  leading: number;
  trailing: number;
}

/** Where a chunk's encoding ended (decodeChunk returns it; appendChunk continues from it). */
export type ChunkTail = XorTail | DecimalTail;

/**
 * Encodes `count` samples, as a decimal chunk when every value is an exact short decimal, as an
 * XOR chunk otherwise. `valueWords` holds each value's IEEE-754 bits as [lo, hi] pairs (the layout
 * of a Uint32Array over a little-endian Float64Array). Timestamps must ascend.
 */
export function encodeChunk(timestamps: ArrayLike<number>, valueWords: Uint32Array, count: number): Uint8Array {
  return count === 0 ? new Uint8Array(0) : encodeChunkWithTail(timestamps, valueWords, count).data;
}

/** encodeChunk of at least one sample, with where the encoding ended (for appendChunkWithTail). */
export function encodeChunkWithTail(
  timestamps: ArrayLike<number>,
  valueWords: Uint32Array,
  count: number,
): { data: Uint8Array; tail: ChunkTail } {
  const scale = decimalScale(valueWords, 0, count);
  return scale === undefined
    ? encodeXor(timestamps, valueWords, count)
    : encodeDecimalChunk(timestamps, valueWords, count, scale);
}

/** Encodes `count` samples (at least one) as an XOR chunk, whatever their values. */
export function encodeXorChunk(timestamps: ArrayLike<number>, valueWords: Uint32Array, count: number): Uint8Array {
  return encodeXor(timestamps, valueWords, count).data;
}

function encodeXor(
  timestamps: ArrayLike<number>,
  valueWords: Uint32Array,
  count: number,
): { data: Uint8Array; tail: XorTail } {
  const w = new BitWriter(count * 3 + 16);
  const t0 = timestamps[0]!;
  writeInt64(w, t0);
  w.write(valueWords[1]!, 32);
  w.write(valueWords[0]!, 32);
  const tail = { bitLength: 0, t: t0, delta: 0, hi: valueWords[1]!, lo: valueWords[0]!, leading: -1, trailing: 0 };
  encodeAfter(w, tail, timestamps, valueWords, 1, count);
  tail.bitLength = w.bitLength;
  return { data: w.bytes(), tail };
}

/**
 * The chunk `data` (whose encoding ended at `tail`, see decodeChunk) followed by `count` more
 * samples, all after its last one, at the cost of the new samples only; for an XOR chunk bit for
 * bit what encodeXorChunk gives for the samples together. Undefined when the samples cannot
 * continue a decimal chunk (a value that is not an exact decimal at its scale): encode them all
 * together instead.
 */
export function appendChunk(
  data: Uint8Array,
  tail: ChunkTail,
  timestamps: ArrayLike<number>,
  valueWords: Uint32Array,
  count: number,
): Uint8Array | undefined {
  return appendChunkWithTail(data, tail, timestamps, valueWords, count)?.data;
}

/** appendChunk, with where the encoding now ends (to append again without decoding). */
export function appendChunkWithTail(
  data: Uint8Array,
  tail: ChunkTail,
  timestamps: ArrayLike<number>,
  valueWords: Uint32Array,
  count: number,
): { data: Uint8Array; tail: ChunkTail } | undefined {
  const next = appendChunkSuffix(chunkEdge(data, tail), tail, timestamps, valueWords, count);
  if (!next) return undefined;
  const out = new Uint8Array(next.keep + next.suffix.length);
  out.set(data.subarray(0, next.keep));
  out.set(next.suffix, next.keep);
  return { data: out, tail: next.tail };
}

/**
 * The bytes of a chunk that appending to it reads, besides its tail: the first two (the format:
 * XOR or decimal, with a decimal chunk's mode and scale) and `last`, the byte the encoding ends
 * in when it ends inside one (0 when it fills whole bytes). With these and the tail, samples are
 * appended without the chunk's bytes (appendChunkSuffix).
 */
export interface ChunkEdge {
  first: number;
  second: number;
  last: number;
}

/** The edge of a chunk whose encoding ended at `tail`. */
export function chunkEdge(data: Uint8Array, tail: ChunkTail): ChunkEdge {
  return {
    first: data[0] ?? 0,
    second: data[1] ?? 0,
    last: (tail.bitLength & 7) === 0 ? 0 : data[tail.bitLength >>> 3]!,
  };
}

/**
 * appendChunk without the stored bytes: `count` more samples after a chunk described by its edge
 * and tail. The new chunk is the stored one's first `keep` bytes followed by `suffix` (which
 * rewrites the byte the encoding ended in), bit for bit what appendChunk gives. Undefined when the
 * samples cannot continue a decimal chunk.
 */
export function appendChunkSuffix(
  edge: ChunkEdge,
  tail: ChunkTail,
  timestamps: ArrayLike<number>,
  valueWords: Uint32Array,
  count: number,
): { keep: number; suffix: Uint8Array; tail: ChunkTail; edge: ChunkEdge } | undefined {
  const keep = tail.bitLength >>> 3;
  let out: { suffix: Uint8Array; tail: ChunkTail } | undefined;
  if (isDecimalFormat(edge.first)) {
    const mode = (edge.first & 1) as DecimalMode;
    out = appendDecimalSuffix(mode, edge.second, edge.last, tail as DecimalTail, timestamps, valueWords, count);
    if (!out) return undefined;
  } else {
    const w = new BitWriter(count * 3 + 16, Uint8Array.of(edge.last), tail.bitLength & 7);
    const next = { ...(tail as XorTail) };
    encodeAfter(w, next, timestamps, valueWords, 0, count);
    next.bitLength = tail.bitLength - (tail.bitLength & 7) + w.bitLength;
    out = { suffix: w.bytes(), tail: next };
  }
  const end = out.tail.bitLength;
  const last = (end & 7) === 0 ? 0 : out.suffix[(end >>> 3) - keep]!;
  return { keep, suffix: out.suffix, tail: out.tail, edge: { first: edge.first, second: edge.second, last } };
}

/** Encodes samples [from, count) after the sample `s` describes, updating `s` as it goes. */
function encodeAfter(
  w: BitWriter,
  s: XorTail,
  timestamps: ArrayLike<number>,
  valueWords: Uint32Array,
  from: number,
  count: number,
): void {
  let prevT = s.t;
  let prevDelta = s.delta;
  let prevHi = s.hi;
  let prevLo = s.lo;
  let leading = s.leading;
  let trailing = s.trailing;
  for (let i = from; i < count; i++) {
    const t = timestamps[i]!;
    const lo = valueWords[2 * i]!;
    const hi = valueWords[2 * i + 1]!;
    const delta = t - prevT;
    const dod = delta - prevDelta;
    prevDelta = delta;
    writeTimestampDod(w, dod);
    const xh = (hi ^ prevHi) >>> 0;
    const xl = (lo ^ prevLo) >>> 0;
    if (xh === 0 && xl === 0) {
      w.bit(0);
    } else {
      w.bit(1);
      let lz = clz64(xh, xl);
      const tz = ctz64(xh, xl);
      if (lz > 31) lz = 31; // 5 bits of leading-zero count
      if (leading >= 0 && lz >= leading && tz >= trailing) {
        w.bit(0);
        writeShifted(w, xh, xl, trailing, 64 - leading - trailing);
      } else {
        leading = lz;
        trailing = tz;
        const sig = 64 - lz - tz;
        w.bit(1);
        w.write(lz, 5);
        w.write(sig & 63, 6); // 64 meaningful bits are written as 0
        writeShifted(w, xh, xl, tz, sig);
      }
    }
    prevT = t;
    prevHi = hi;
    prevLo = lo;
  }
  s.t = prevT;
  s.delta = prevDelta;
  s.hi = prevHi;
  s.lo = prevLo;
  s.leading = leading;
  s.trailing = trailing;
}

function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

function ctz64(hi: number, lo: number): number {
  return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
}

function writeShifted(w: BitWriter, hi: number, lo: number, shift: number, n: number): void {
  let sh: number;
  let sl: number;
  if (shift === 0) {
    sh = hi;
    sl = lo;
  } else if (shift >= 32) {
    sh = 0;
    sl = hi >>> (shift - 32);
  } else {
    sl = ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
    sh = hi >>> shift;
  }
  w.wide(sh, sl, n);
}

/**
 * Decodes `count` samples of a chunk of either encoding into `timestamps[offset…]` and the [lo, hi]
 * word pairs of `valueWords[2*offset…]` (a Uint32Array over the caller's Float64Array of values).
 * Returns where the encoding ended, for appendChunk.
 */
export function decodeChunk(
  data: Uint8Array,
  count: number,
  timestamps: Float64Array,
  valueWords: Uint32Array,
  offset = 0,
): ChunkTail {
  return isDecimalChunk(data)
    ? decodeDecimalChunk(data, count, timestamps, valueWords, offset)
    : decodeXorChunk(data, count, timestamps, valueWords, offset);
}

function decodeXorChunk(
  data: Uint8Array,
  count: number,
  timestamps: Float64Array,
  valueWords: Uint32Array,
  offset: number,
): XorTail {
  const r = new BitReader(data);
  let t = 0;
  let delta = 0;
  let hi = 0;
  let lo = 0;
  let leading = 0;
  let trailing = 0;
  let windowSeen = false;
  for (let i = 0; i < count; i++) {
    if (i === 0) {
      t = readInt64(r);
      hi = r.read(32);
      lo = r.read(32);
    } else {
      const dod = readTimestampDod(r);
      delta += dod;
      t += delta;
      if (r.bit() === 1) {
        if (r.bit() === 1) {
          leading = r.read(5);
          const sig = r.read(6) || 64;
          trailing = 64 - leading - sig;
          windowSeen = true;
        }
        const n = 64 - leading - trailing;
        let xh = 0;
        let xl: number;
        if (n > 32) {
          xh = r.read(n - 32);
          xl = r.read(32);
        } else {
          xl = r.read(n);
        }
        // shift (xh, xl) left by `trailing`
        if (trailing >= 32) {
          xh = trailing === 64 ? 0 : xl * 2 ** (trailing - 32);
          xl = 0;
        } else if (trailing > 0) {
          xh = ((xh << trailing) | (xl >>> (32 - trailing))) >>> 0;
          xl = (xl << trailing) >>> 0;
        }
        hi = (hi ^ xh) >>> 0;
        lo = (lo ^ xl) >>> 0;
      }
    }
    timestamps[offset + i] = t;
    valueWords[2 * (offset + i)] = lo;
    valueWords[2 * (offset + i) + 1] = hi;
  }
  return { bitLength: r.position, t, delta, hi, lo, leading: windowSeen ? leading : -1, trailing };
}
