/**
 * Rollups: per series, per stored chunk and per resolution, the partial aggregates of the
 * chunk's samples bucket by bucket, where a bucket is `(end - resolution, end]` (left-open like
 * a PromQL range window, so a window of whole buckets at bucket-aligned steps is a union of
 * buckets). A chunk covers `[start, start + span)`, so a sample at exactly `start` belongs to
 * the bucket ending there and that bucket comes as two partials, one from each chunk; readers
 * fold partials in time order, which is exact for every aggregate kept here.
 *
 * Kept per partial: sample count, compensated sum, min and max (NaN only when every sample is
 * NaN, as min/max_over_time), first and last sample, and the counter-reset correction (the sum
 * of every sample followed by a lower one) — enough for avg/sum/min/max/count/present_over_time
 * and rate/increase/delta with the same answer as the raw samples, to float rounding. Stale
 * markers are left out, as range selectors leave them out.
 *
 * Encoding (little-endian), after a one-byte format tag and a u16 partial count, 64 bytes per
 * partial: i32 end, u32 count, i32 first and i32 last sample time (all ms after the chunk
 * start), then f64 sum, min, max, first value, last value, correction.
 */
import type { Labels, RollupSeriesData } from '@arcwatch/contracts';
import { StorageError } from '../errors';

const FORMAT = 1;
const HEADER = 3;
const PARTIAL = 64;
const STALE_HI = 0x7ff00000;
const STALE_LO = 0x00000002;

/** Rollup partials of one series as growable columns (decoded rows, or computed from samples). */
export class RollupColumns {
  length = 0;
  ends = new Float64Array(16);
  count = new Float64Array(16);
  sum = new Float64Array(16);
  min = new Float64Array(16);
  max = new Float64Array(16);
  firstTs = new Float64Array(16);
  firstV = new Float64Array(16);
  lastTs = new Float64Array(16);
  lastV = new Float64Array(16);
  corr = new Float64Array(16);

  private grow(): void {
    const size = this.ends.length * 2;
    for (const k of COLUMNS) {
      const next = new Float64Array(size);
      next.set(this[k]);
      this[k] = next;
    }
  }

  push(
    end: number,
    count: number,
    sum: number,
    min: number,
    max: number,
    firstTs: number,
    firstV: number,
    lastTs: number,
    lastV: number,
    corr: number,
  ): void {
    if (this.length === this.ends.length) this.grow();
    const i = this.length++;
    this.ends[i] = end;
    this.count[i] = count;
    this.sum[i] = sum;
    this.min[i] = min;
    this.max[i] = max;
    this.firstTs[i] = firstTs;
    this.firstV[i] = firstV;
    this.lastTs[i] = lastTs;
    this.lastV[i] = lastV;
    this.corr[i] = corr;
  }

  /** Partials with a bucket end in (fromMs, toMs], as the contract's shape (views, no copies). */
  toSeriesData(labels: Labels, fromMs = -Infinity, toMs = Infinity): RollupSeriesData {
    let a = 0;
    while (a < this.length && this.ends[a]! <= fromMs) a++;
    let b = this.length;
    while (b > a && this.ends[b - 1]! > toMs) b--;
    const view = (k: (typeof COLUMNS)[number]): Float64Array => this[k].subarray(a, b);
    return {
      labels,
      ends: view('ends'),
      count: view('count'),
      sum: view('sum'),
      min: view('min'),
      max: view('max'),
      firstTs: view('firstTs'),
      firstV: view('firstV'),
      lastTs: view('lastTs'),
      lastV: view('lastV'),
      corr: view('corr'),
    };
  }
}

const COLUMNS = ['ends', 'count', 'sum', 'min', 'max', 'firstTs', 'firstV', 'lastTs', 'lastV', 'corr'] as const;

const bits = new DataView(new ArrayBuffer(8));

/**
 * Appends the partials of sorted, duplicate-free samples [from, to) (values as [lo, hi] bit
 * words) to `out`: one per bucket that holds a sample other than a stale marker.
 */
export function appendPartials(
  out: RollupColumns,
  timestamps: Float64Array,
  words: Uint32Array,
  resolutionMs: number,
  from = 0,
  to = timestamps.length,
): void {
  let i = from;
  while (i < to) {
    const end = Math.ceil(timestamps[i]! / resolutionMs) * resolutionMs;
    let count = 0;
    let sum = 0;
    let c = 0;
    let min = NaN;
    let max = NaN;
    let firstTs = 0;
    let firstV = NaN;
    let lastTs = 0;
    let lastV = NaN;
    let corr = 0;
    for (; i < to && timestamps[i]! <= end; i++) {
      const lo = words[2 * i]!;
      const hi = words[2 * i + 1]!;
      if (hi === STALE_HI && lo === STALE_LO) continue;
      bits.setUint32(0, lo, true);
      bits.setUint32(4, hi, true);
      const v = bits.getFloat64(0, true);
      const t = timestamps[i]!;
      if (count === 0) {
        firstTs = t;
        firstV = v;
        min = v;
        max = v;
      } else {
        if (v < lastV) corr += lastV;
        // as min/max_over_time: NaN only until a number comes, the first of equal values kept
        if (v < min || (min !== min && v === v)) min = v;
        if (v > max || (max !== max && v === v)) max = v;
      }
      // Kahan–Neumaier, as kahanSum in the query engine
      const s = sum + v;
      if (!Number.isFinite(s)) c = 0;
      else if (Math.abs(sum) >= Math.abs(v)) c += sum - s + v;
      else c += v - s + sum;
      sum = s;
      lastTs = t;
      lastV = v;
      count++;
    }
    if (count > 0)
      out.push(end, count, Number.isFinite(sum) ? sum + c : sum, min, max, firstTs, firstV, lastTs, lastV, corr);
  }
}

/** The rollup of one chunk's samples at one resolution, encoded for its row. */
export function encodeRollup(
  chunkStartMs: number,
  timestamps: Float64Array,
  words: Uint32Array,
  resolutionMs: number,
): Uint8Array {
  const p = new RollupColumns();
  appendPartials(p, timestamps, words, resolutionMs);
  const buf = new Uint8Array(HEADER + PARTIAL * p.length);
  const view = new DataView(buf.buffer);
  view.setUint8(0, FORMAT);
  view.setUint16(1, p.length, true);
  for (let k = 0; k < p.length; k++) {
    const o = HEADER + k * PARTIAL;
    view.setInt32(o, p.ends[k]! - chunkStartMs, true);
    view.setUint32(o + 4, p.count[k]!, true);
    view.setInt32(o + 8, p.firstTs[k]! - chunkStartMs, true);
    view.setInt32(o + 12, p.lastTs[k]! - chunkStartMs, true);
    view.setFloat64(o + 16, p.sum[k]!, true);
    view.setFloat64(o + 24, p.min[k]!, true);
    view.setFloat64(o + 32, p.max[k]!, true);
    view.setFloat64(o + 40, p.firstV[k]!, true);
    view.setFloat64(o + 48, p.lastV[k]!, true);
    view.setFloat64(o + 56, p.corr[k]!, true);
  }
  return buf;
}

/** Appends the partials of one stored rollup row to `out`. */
export function decodeRollupInto(out: RollupColumns, data: Uint8Array, chunkStartMs: number): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.byteLength < HEADER || view.getUint8(0) !== FORMAT)
    throw new StorageError(
      'CORRUPT_CHUNK',
      `rollup row of unknown format ${data.byteLength ? view.getUint8(0) : '(empty)'}`,
    );
  const n = view.getUint16(1, true);
  if (data.byteLength !== HEADER + n * PARTIAL)
    throw new StorageError('CORRUPT_CHUNK', `rollup row of ${data.byteLength} bytes for ${n} partials`);
  for (let k = 0; k < n; k++) {
    const o = HEADER + k * PARTIAL;
    out.push(
      chunkStartMs + view.getInt32(o, true),
      view.getUint32(o + 4, true),
      view.getFloat64(o + 16, true),
      view.getFloat64(o + 24, true),
      view.getFloat64(o + 32, true),
      chunkStartMs + view.getInt32(o + 8, true),
      view.getFloat64(o + 40, true),
      chunkStartMs + view.getInt32(o + 12, true),
      view.getFloat64(o + 48, true),
      view.getFloat64(o + 56, true),
    );
  }
}
