import { endianness } from 'node:os';

/**
 * Float64 columns as base64 of little-endian IEEE-754 bytes: the bits travel unchanged, so NaN
 * payloads (Prometheus's staleness marker among them), ±Inf and -0 survive where JSON numbers
 * cannot carry them. On a little-endian host (x86-64, arm64) encoding and decoding are one copy.
 */
const LITTLE_ENDIAN = endianness() === 'LE';

/** Characters of base64 (padded) that `count` float64 values take. */
export function base64Length(count: number): number {
  return 4 * Math.ceil((count * 8) / 3);
}

export function encodeFloat64Base64(values: Float64Array): string {
  if (LITTLE_ENDIAN) return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
  const out = Buffer.alloc(values.length * 8);
  for (let i = 0; i < values.length; i++) out.writeDoubleLE(values[i]!, i * 8);
  return out.toString('base64');
}

/**
 * Decodes `count` values into `target` at byte `offset` (8-aligned when `target` is read as a
 * Float64Array). Returns false, leaving the bytes undefined, when the text is not exactly `count`
 * values of base64 (wrong length or characters outside the alphabet).
 */
export function decodeFloat64Base64Into(text: string, count: number, target: Buffer, offset: number): boolean {
  if (text.length !== base64Length(count)) return false;
  // Buffer's decoder skips characters outside the alphabet: a short write means the text had some.
  const written = target.write(text, offset, count * 8, 'base64');
  if (written !== count * 8) return false;
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < count; i++) {
      const at = offset + i * 8;
      target.subarray(at, at + 8).reverse();
    }
  }
  return true;
}

export function decodeFloat64Base64(text: string, count: number): Float64Array | undefined {
  const bytes = Buffer.alloc(count * 8);
  if (!decodeFloat64Base64Into(text, count, bytes, 0)) return undefined;
  return new Float64Array(bytes.buffer, bytes.byteOffset, count);
}
