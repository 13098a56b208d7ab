import { StorageError } from '../errors';

/**
 * The chunk encoding: Gorilla-style (Facebook 2015, as in Prometheus's XOR chunks).
 * Timestamps: the first one raw (64 bits), then the delta-of-delta of each one in a prefix code
 * ('0' | '10'+14 | '110'+17 | '1110'+20 | '1111'+64 bits). Values: the first one's raw IEEE-754
 * bits, then each one XORed with the previous: '0' when equal, otherwise '1' and either the
 * meaningful bits inside the previous leading/trailing-zero window ('0') or a new window ('1' +
 * 5 bits leading zeros + 6 bits length). Values are handled as raw bits, never as numbers, so
 * NaN payloads (the staleness marker) survive bit-exactly.
 *
 * JavaScript bit operations are 32-bit, so 64-bit words travel as (hi, lo) pairs.
 */

const TWO32 = 4294967296;

class BitWriter {
  private buf: Uint8Array;
  private pos = 0;

  /** With `prefix`: continues after its first `prefixBits` bits (the rest of its last byte is zero). */
  constructor(capacityBytes: number, prefix?: Uint8Array, prefixBits = 0) {
    this.buf = new Uint8Array(Math.max(16, capacityBytes, prefix ? prefix.length + 16 : 0));
    if (prefix) {
      this.buf.set(prefix.subarray(0, (prefixBits + 7) >>> 3));
      this.pos = prefixBits;
    }
  }

  /** Writes the low `n` bits of `value` (1 ≤ n ≤ 32), most significant first. */
  write(value: number, n: number): void {
    if ((this.pos + n + 7) >>> 3 > this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2 + 8);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    while (n > 0) {
      const free = 8 - (this.pos & 7);
      const take = free < n ? free : n;
      const bits = (value >>> (n - take)) & ((1 << take) - 1);
      this.buf[this.pos >>> 3]! |= bits << (free - take);
      this.pos += take;
      n -= take;
    }
  }

  bit(b: 0 | 1): void {
    this.write(b, 1);
  }

  /** The low `n` bits (1 ≤ n ≤ 64) of the 64-bit word (hi, lo). */
  wide(hi: number, lo: number, n: number): void {
    if (n > 32) {
      this.write(hi, n - 32);
      this.write(lo, 32);
    } else {
      this.write(lo, n);
    }
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, (this.pos + 7) >>> 3);
  }
}

class BitReader {
  private pos = 0;
  private readonly bits: number;
  constructor(private readonly buf: Uint8Array) {
    this.bits = buf.length * 8;
  }

  get position(): number {
    return this.pos;
  }

  read(n: number): number {
    if (this.pos + n > this.bits) throw new StorageError('CORRUPT_CHUNK', 'chunk ended early');
    let out = 0;
    let pos = this.pos;
    while (n > 0) {
      const avail = 8 - (pos & 7);
      const take = avail < n ? avail : n;
      const bits = (this.buf[pos >>> 3]! >>> (avail - take)) & ((1 << take) - 1);
      // multiply rather than shift: the result may need all 32 bits unsigned
      out = out * (1 << take) + bits;
      pos += take;
      n -= take;
    }
    this.pos = pos;
    return out;
  }

  /** One bit: most of a chunk's control bits, so it skips read()'s loop. */
  bit(): number {
    const pos = this.pos;
    if (pos >= this.bits) throw new StorageError('CORRUPT_CHUNK', 'chunk ended early');
    this.pos = pos + 1;
    return (this.buf[pos >>> 3]! >>> (7 - (pos & 7))) & 1;
  }
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

function writeSigned(w: BitWriter, v: number, n: number): void {
  w.write(v < 0 ? v + 2 ** n : v, n);
}

function readSigned(r: BitReader, n: number): number {
  const u = r.read(n);
  return u >= 2 ** (n - 1) ? u - 2 ** n : u;
}

function writeInt64(w: BitWriter, v: number): void {
  const hi = Math.floor(v / TWO32);
  w.write(hi >>> 0, 32);
  w.write(v - hi * TWO32, 32);
}

function readInt64(r: BitReader): number {
  const hi = r.read(32) | 0;
  return hi * TWO32 + r.read(32);
}

/**
 * Where an encoder stands after a chunk's last sample: enough to append to the chunk without
 * re-encoding it. `leading` is -1 while no leading/trailing-zero window has been written.
 */
export interface ChunkTail {
  bitLength: number;
  t: number;
  delta: number;
  hi: number;
  lo: number;
  leading: number;
  trailing: number;
}

/**
 * Encodes `count` samples. `valueWords` holds each value's IEEE-754 bits as [lo, hi] pairs
 * (the layout of a Uint32Array over a little-endian Float64Array). Timestamps must ascend.
 */
export function encodeChunk(timestamps: ArrayLike<number>, valueWords: Uint32Array, count: number): Uint8Array {
  if (count === 0) return new Uint8Array(0);
  const w = new BitWriter(count * 3 + 16);
  const t0 = timestamps[0]!;
  writeInt64(w, t0);
  w.write(valueWords[1]!, 32);
  w.write(valueWords[0]!, 32);
  const tail = { bitLength: 0, t: t0, delta: 0, hi: valueWords[1]!, lo: valueWords[0]!, leading: -1, trailing: 0 };
  encodeAfter(w, tail, timestamps, valueWords, 1, count);
  return w.bytes();
}

/**
 * The chunk `data` (whose encoding ended at `tail`, see decodeChunk) followed by `count` more
 * samples, all after its last one: bit for bit what encodeChunk gives for the samples together,
 * at the cost of the new samples only.
 */
export function appendChunk(
  data: Uint8Array,
  tail: ChunkTail,
  timestamps: ArrayLike<number>,
  valueWords: Uint32Array,
  count: number,
): Uint8Array {
  const w = new BitWriter(data.length + count * 3 + 16, data, tail.bitLength);
  encodeAfter(w, { ...tail }, timestamps, valueWords, 0, count);
  return w.bytes();
}

/** Encodes samples [from, count) after the sample `s` describes, updating `s` as it goes. */
function encodeAfter(
  w: BitWriter,
  s: ChunkTail,
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
    if (dod === 0) w.bit(0);
    else if (dod >= -8192 && dod < 8192) {
      w.write(0b10, 2);
      writeSigned(w, dod, 14);
    } else if (dod >= -65536 && dod < 65536) {
      w.write(0b110, 3);
      writeSigned(w, dod, 17);
    } else if (dod >= -524288 && dod < 524288) {
      w.write(0b1110, 4);
      writeSigned(w, dod, 20);
    } else {
      w.write(0b1111, 4);
      writeInt64(w, dod);
    }
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
 * Decodes `count` samples into `timestamps[offset…]` and the [lo, hi] word pairs of
 * `valueWords[2*offset…]` (a Uint32Array over the caller's Float64Array of values). Returns where
 * the encoding ended, for appendChunk.
 */
export function decodeChunk(
  data: Uint8Array,
  count: number,
  timestamps: Float64Array,
  valueWords: Uint32Array,
  offset = 0,
): ChunkTail {
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
      let dod: number;
      if (r.bit() === 0) dod = 0;
      else if (r.bit() === 0) dod = readSigned(r, 14);
      else if (r.bit() === 0) dod = readSigned(r, 17);
      else if (r.bit() === 0) dod = readSigned(r, 20);
      else dod = readInt64(r);
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
