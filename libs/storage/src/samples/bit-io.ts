import { StorageError } from '../errors';

/**
 * Bit-level reading and writing shared by the chunk encodings (chunk.codec.ts,
 * decimal-chunk.codec.ts), and the timestamp code both use. JavaScript bit operations are 32-bit,
 * so wider fields travel as (hi, lo) pairs or as exact integers below 2^53.
 */

export const TWO32 = 4294967296;

export class BitWriter {
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

  /** Bits written so far (with the prefix). */
  get bitLength(): number {
    return this.pos;
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

export class BitReader {
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

  /** `n` bits (1 ≤ n ≤ 53) as an unsigned integer. */
  readWide(n: number): number {
    return n > 32 ? this.read(n - 32) * TWO32 + this.read(32) : this.read(n);
  }

  /** One bit: most of a chunk's control bits, so it skips read()'s loop. */
  bit(): number {
    const pos = this.pos;
    if (pos >= this.bits) throw new StorageError('CORRUPT_CHUNK', 'chunk ended early');
    this.pos = pos + 1;
    return (this.buf[pos >>> 3]! >>> (7 - (pos & 7))) & 1;
  }
}

export function writeSigned(w: BitWriter, v: number, n: number): void {
  w.write(v < 0 ? v + 2 ** n : v, n);
}

export function readSigned(r: BitReader, n: number): number {
  const u = r.read(n);
  return u >= 2 ** (n - 1) ? u - 2 ** n : u;
}

export function writeInt64(w: BitWriter, v: number): void {
  const hi = Math.floor(v / TWO32);
  w.write(hi >>> 0, 32);
  w.write(v - hi * TWO32, 32);
}

export function readInt64(r: BitReader): number {
  const hi = r.read(32) | 0;
  return hi * TWO32 + r.read(32);
}

/**
 * A timestamp's delta-of-delta in the prefix code of both encodings:
 * '0' | '10'+14 | '110'+17 | '1110'+20 | '1111'+64 bits.
 */
export function writeTimestampDod(w: BitWriter, dod: number): void {
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
}

export function readTimestampDod(r: BitReader): number {
  if (r.bit() === 0) return 0;
  if (r.bit() === 0) return readSigned(r, 14);
  if (r.bit() === 0) return readSigned(r, 17);
  if (r.bit() === 0) return readSigned(r, 20);
  return readInt64(r);
}
