import { BitReader, BitWriter, readInt64, readTimestampDod, TWO32, writeInt64, writeTimestampDod } from './bit-io';

/**
 * The decimal chunk encoding, for series whose values are all decimals with a few digits after
 * the point (integer gauges and counters, percentages, watts to the milliwatt, 6-decimal ratios:
 * nearly everything an exporter writes). Each value v is stored as the integer m with
 * v = m / 10^scale, the same scale for the whole chunk, and only the change of m is written —
 * its delta (gauges) or the delta of its delta (counters that grow at a steady rate). A noisy
 * 6-decimal ratio then costs its ~17 bits of actual noise instead of the ~50 mantissa bits an XOR
 * of the two doubles flips (docs/decisions/0010-decimal-chunks.md).
 *
 * Exactness is checked, not assumed: a chunk is decimal only when every value is finite, is not
 * -0, and `m / 10^scale` (the decoder's own operation) gives back its exact bits; otherwise the
 * chunk stays XOR. NaN, ±Inf and the staleness marker therefore always travel in XOR chunks.
 *
 * Layout: byte 0 is 0x80 | mode (0 = delta, 1 = delta of delta), byte 1 the scale (0–15). An XOR
 * chunk starts with its first timestamp's high byte, which is 0x00–0x3F or 0xC0–0xFF for any
 * timestamp within ±2^62 ms, so the first byte tells the two apart. Then the bit stream: the first
 * timestamp (64 bits) and m (64-bit two's complement), then per sample the timestamp's
 * delta-of-delta (the XOR chunks' code) and the value's change x:
 *   '0'                        x = 0
 *   '10' + W bits              zigzag(x) in the current width W
 *   '11' + 6 bits (W'−1) + W'  a new width W', then zigzag(x) in it
 */

export const DECIMAL_CHUNK_TAG = 0x80;
/** |m| stays below 2^50, so a delta of delta's zigzag stays an exact integer below 2^53. */
const M_LIMIT = 2 ** 50;
const MAX_SCALE = 15;
const POW10: readonly number[] = Array.from({ length: MAX_SCALE + 1 }, (_, e) => Number(`1e${e}`));
/** A width is kept while the change needs at least W − KEEP_SLACK + 1 of its bits. */
const KEEP_SLACK = 6;

export type DecimalMode = 0 | 1;

export function isDecimalChunk(data: Uint8Array): boolean {
  return data.length > 0 && isDecimalFormat(data[0]!);
}

/** Whether a chunk whose first byte is `first` is a decimal chunk. */
export function isDecimalFormat(first: number): boolean {
  return (first & 0xc0) === DECIMAL_CHUNK_TAG;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function valueOf(words: Uint32Array, i: number): number {
  u32[0] = words[2 * i]!;
  u32[1] = words[2 * i + 1]!;
  return f64[0]!;
}

/** The integer m with m / 10^scale === v bit for bit, or undefined. */
function mantissa(v: number, scale: number): number | undefined {
  const p = POW10[scale]!;
  const m = Math.round(v * p);
  if (!(Math.abs(m) < M_LIMIT)) return undefined;
  const back = scale === 0 ? m : m / p;
  return back === v && (v !== 0 || !Object.is(v, -0)) ? m : undefined;
}

/**
 * The smallest scale at which every value (words [lo, hi] pairs, from `from` to `count`) is an
 * exact decimal, starting the search at `atLeast`; undefined when some value is none.
 */
export function decimalScale(valueWords: Uint32Array, from: number, count: number, atLeast = 0): number | undefined {
  let scale = atLeast;
  for (let i = from; i < count; i++) {
    const v = valueOf(valueWords, i);
    if (!Number.isFinite(v)) return undefined;
    while (mantissa(v, scale) === undefined) {
      if (++scale > MAX_SCALE) return undefined;
    }
  }
  return scale;
}

/** Where a decimal chunk's encoder stands after its last sample (see appendDecimalChunk). */
export interface DecimalTail {
  bitLength: number;
  t: number;
  delta: number;
  /** The last m and the last delta of m. */
  m: number;
  dm: number;
  width: number;
}

/** The mode that writes fewer bits for these mantissas, judged by the widths of their changes. */
function chooseMode(ms: Float64Array): DecimalMode {
  let deltaBits = 0;
  let dodBits = 0;
  let prevDm = 0;
  for (let i = 1; i < ms.length; i++) {
    const dm = ms[i]! - ms[i - 1]!;
    deltaBits += bitWidth(zigzag(dm));
    dodBits += bitWidth(zigzag(dm - prevDm));
    prevDm = dm;
  }
  return dodBits < deltaBits ? 1 : 0;
}

function zigzag(x: number): number {
  return x >= 0 ? 2 * x : -2 * x - 1;
}

function bitWidth(z: number): number {
  return z < TWO32 ? 32 - Math.clz32(z) : 64 - Math.clz32(Math.floor(z / TWO32));
}

/**
 * Encodes `count` samples at `scale` (from decimalScale). `valueWords` holds each value's IEEE-754
 * bits as [lo, hi] pairs. Timestamps must ascend.
 */
export function encodeDecimalChunk(
  timestamps: ArrayLike<number>,
  valueWords: Uint32Array,
  count: number,
  scale: number,
): { data: Uint8Array; tail: DecimalTail } {
  const ms = new Float64Array(count);
  for (let i = 0; i < count; i++) ms[i] = mantissa(valueOf(valueWords, i), scale)!;
  const mode = chooseMode(ms);
  const w = new BitWriter(count * 3 + 24);
  w.write(DECIMAL_CHUNK_TAG | mode, 8);
  w.write(scale, 8);
  writeInt64(w, timestamps[0]!);
  writeInt64(w, ms[0]!);
  const tail: DecimalTail = { bitLength: 0, t: timestamps[0]!, delta: 0, m: ms[0]!, dm: 0, width: 0 };
  encodeAfter(w, tail, mode, timestamps, ms, 1, count);
  tail.bitLength = w.bitLength;
  return { data: w.bytes(), tail };
}

/**
 * `count` more samples, all after the last one of a decimal chunk of `mode` and `scale` whose
 * encoding ended at `tail`, written after the chunk's first `tail.bitLength` bits: `last` is the
 * byte those bits end in (unused when they fill whole bytes). Returns the bytes from that byte
 * on, and where the encoding now ends; undefined when one of the samples is not an exact decimal
 * at the chunk's scale (the caller then encodes the samples together, which picks a larger scale
 * or XOR).
 */
export function appendDecimalSuffix(
  mode: DecimalMode,
  scale: number,
  last: number,
  tail: DecimalTail,
  timestamps: ArrayLike<number>,
  valueWords: Uint32Array,
  count: number,
): { suffix: Uint8Array; tail: DecimalTail } | undefined {
  const ms = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const m = mantissa(valueOf(valueWords, i), scale);
    if (m === undefined) return undefined;
    ms[i] = m;
  }
  const w = new BitWriter(count * 3 + 16, Uint8Array.of(last), tail.bitLength & 7);
  const next = { ...tail };
  encodeAfter(w, next, mode, timestamps, ms, 0, count);
  next.bitLength = tail.bitLength - (tail.bitLength & 7) + w.bitLength;
  return { suffix: w.bytes(), tail: next };
}

function encodeAfter(
  w: BitWriter,
  s: DecimalTail,
  mode: DecimalMode,
  timestamps: ArrayLike<number>,
  ms: Float64Array,
  from: number,
  count: number,
): void {
  let prevT = s.t;
  let prevDelta = s.delta;
  let prevM = s.m;
  let prevDm = s.dm;
  let width = s.width;
  for (let i = from; i < count; i++) {
    const t = timestamps[i]!;
    const delta = t - prevT;
    writeTimestampDod(w, delta - prevDelta);
    prevDelta = delta;
    prevT = t;
    const m = ms[i]!;
    const dm = m - prevM;
    const x = mode === 0 ? dm : dm - prevDm;
    prevM = m;
    prevDm = dm;
    if (x === 0) {
      w.bit(0);
      continue;
    }
    const z = zigzag(x);
    const need = bitWidth(z);
    if (need <= width && need > width - KEEP_SLACK) {
      w.write(0b10, 2);
    } else {
      width = need;
      w.write(0b11, 2);
      w.write(width - 1, 6);
    }
    if (width > 32) {
      const hi = Math.floor(z / TWO32);
      w.write(hi, width - 32);
      w.write(z - hi * TWO32, 32);
    } else {
      w.write(z, width);
    }
  }
  s.t = prevT;
  s.delta = prevDelta;
  s.m = prevM;
  s.dm = prevDm;
  s.width = width;
}

/**
 * Decodes `count` samples into `timestamps[offset…]` and the [lo, hi] word pairs of
 * `valueWords[2*offset…]`. Returns where the encoding ended, for appendDecimalChunk.
 */
export function decodeDecimalChunk(
  data: Uint8Array,
  count: number,
  timestamps: Float64Array,
  valueWords: Uint32Array,
  offset = 0,
): DecimalTail {
  const r = new BitReader(data);
  const mode = r.read(8) & 1;
  const scale = r.read(8);
  const p = POW10[scale]!;
  let t = 0;
  let delta = 0;
  let m = 0;
  let dm = 0;
  let width = 0;
  for (let i = 0; i < count; i++) {
    if (i === 0) {
      t = readInt64(r);
      m = readInt64(r);
    } else {
      delta += readTimestampDod(r);
      t += delta;
      let x = 0;
      if (r.bit() === 1) {
        if (r.bit() === 1) width = r.read(6) + 1;
        const z = r.readWide(width);
        x = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      }
      dm = mode === 0 ? x : dm + x;
      m += dm;
    }
    timestamps[offset + i] = t;
    f64[0] = scale === 0 ? m : m / p;
    valueWords[2 * (offset + i)] = u32[0]!;
    valueWords[2 * (offset + i) + 1] = u32[1]!;
  }
  return { bitLength: r.position, t, delta, m, dm, width };
}
