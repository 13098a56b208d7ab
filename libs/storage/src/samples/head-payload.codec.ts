import { fromWireValue, type WireValue } from '@arcwatch/contracts';
import { StorageError } from '../errors';

/**
 * The payload of one head row (one ingested batch), laid out for cheap writes and reads rather
 * than size, because head rows live only until the compactor folds them into chunks:
 *
 *   u32 n | u32 seriesIds[n] | u32 counts[n] | pad to 8 | f64 timestamps[total] | f64 values[total]
 *
 * little-endian; values are copied as raw IEEE-754 bits.
 */
export interface HeadPayload {
  seriesIds: Uint32Array;
  counts: Uint32Array;
  /** Start offset of each series' samples in `timestamps` / `values`. */
  offsets: Uint32Array;
  timestamps: Float64Array;
  values: Float64Array;
}

function headerWords(n: number): number {
  const words = 1 + 2 * n;
  return words + (words & 1); // pad to a multiple of 8 bytes
}

export interface EncodedBatch {
  payload: Uint8Array;
  samples: number;
  minTs: number;
  maxTs: number;
}

/**
 * Encodes a batch's samples straight from their wire form into one buffer (ingest's hot loop:
 * no per-series allocation). Throws on a timestamp that is not a safe integer.
 */
export function encodeBatchPayload(
  seriesIds: ArrayLike<number>,
  samples: readonly (readonly (readonly [number, WireValue])[])[],
): EncodedBatch {
  const n = samples.length;
  let total = 0;
  for (const s of samples) total += s.length;
  const hw = headerWords(n);
  const buf = new ArrayBuffer(hw * 4 + total * 16);
  const header = new Uint32Array(buf, 0, hw);
  const ts = new Float64Array(buf, hw * 4, total);
  const vals = new Float64Array(buf, hw * 4 + total * 8, total);
  header[0] = n;
  let k = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const list = samples[i]!;
    header[1 + i] = seriesIds[i]!;
    header[1 + n + i] = list.length;
    for (let j = 0; j < list.length; j++, k++) {
      const sample = list[j]!;
      const t = sample[0];
      if (!Number.isSafeInteger(t)) throw new StorageError('INVALID_BATCH', `timestamp ${t} is not an integer`);
      const v = sample[1];
      ts[k] = t;
      vals[k] = typeof v === 'number' ? v : fromWireValue(v);
      if (t < min) min = t;
      if (t > max) max = t;
    }
  }
  return { payload: new Uint8Array(buf), samples: total, minTs: min, maxTs: max };
}

export function decodeHeadPayload(bytes: Uint8Array): HeadPayload {
  // pg hands out Buffers that are slices of a larger, unaligned pool: copy once to align.
  const own = new Uint8Array(bytes.length);
  own.set(bytes);
  const buf = own.buffer;
  if (bytes.length < 4) throw new StorageError('CORRUPT_CHUNK', 'head payload too short');
  const n = new Uint32Array(buf, 0, 1)[0]!;
  const hw = headerWords(n);
  const total = (bytes.length - hw * 4) / 16;
  if (!Number.isInteger(total) || total < 0) throw new StorageError('CORRUPT_CHUNK', 'head payload has a torn length');
  const header = new Uint32Array(buf, 0, hw);
  const seriesIds = header.subarray(1, 1 + n);
  const counts = header.subarray(1 + n, 1 + 2 * n);
  const offsets = new Uint32Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = acc;
    acc += counts[i]!;
  }
  if (acc !== total) throw new StorageError('CORRUPT_CHUNK', 'head payload counts do not match its length');
  return {
    seriesIds,
    counts,
    offsets,
    timestamps: new Float64Array(buf, hw * 4, total),
    values: new Float64Array(buf, hw * 4 + total * 8, total),
  };
}
