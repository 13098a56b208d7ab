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
 * Encoding (little-endian), after a one-byte format tag and a u16 partial count, per partial a
 * flags byte and i32 bucket end (ms after the chunk start), then for a partial of one sample
 * (the one at exactly the chunk start, mostly) its i32 time and f64 value (17 bytes), otherwise
 * u32 count, i32 first and last sample time, f64 sum, min, max, first and last value, and the
 * f64 correction only when it is not 0 (57 or 65 bytes).
 */
import type { Labels, RollupSeriesData } from '@arcwatch/contracts';
import { StorageError } from '../errors';

const FORMAT = 1;
const HEADER = 3;
/** A partial of one sample: flags, end, time, value. */
const SINGLE = 17;
/** Any other: flags, end, count, first and last time, sum, min, max, first and last value (+ correction). */
const FULL = 57;
const ONE_SAMPLE = 1;
const HAS_CORRECTION = 2;
const STALE_HI = 0x7ff00000;
const STALE_LO = 0x00000002;

/** Rollup partials of one series as growable columns (decoded rows, or computed from samples). */
export class RollupColumns {
  length = 0;
  ends: Float64Array;
  count: Float64Array;
  sum: Float64Array;
  min: Float64Array;
  max: Float64Array;
  firstTs: Float64Array;
  firstV: Float64Array;
  lastTs: Float64Array;
  lastV: Float64Array;
  corr: Float64Array;

  constructor(capacity = 8) {
    this.ends = new Float64Array(capacity);
    this.count = new Float64Array(capacity);
    this.sum = new Float64Array(capacity);
    this.min = new Float64Array(capacity);
    this.max = new Float64Array(capacity);
    this.firstTs = new Float64Array(capacity);
    this.firstV = new Float64Array(capacity);
    this.lastTs = new Float64Array(capacity);
    this.lastV = new Float64Array(capacity);
    this.corr = new Float64Array(capacity);
  }

  private grow(): void {
    this.resize(Math.max(8, this.ends.length * 2));
  }

  private resize(size: number): void {
    for (const k of COLUMNS) {
      const next = new Float64Array(size);
      next.set(this[k]);
      this[k] = next;
    }
  }

  /** Makes room for `capacity` partials in all. */
  reserve(capacity: number): void {
    if (this.ends.length < capacity) this.resize(capacity);
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

/** encodeRollup's partials, reused: compaction and imports encode thousands of rollups a transaction. */
const scratch = new RollupColumns(64);

/** The rollup of one chunk's samples at one resolution, encoded for its row. */
export function encodeRollup(
  chunkStartMs: number,
  timestamps: Float64Array,
  words: Uint32Array,
  resolutionMs: number,
): Uint8Array {
  const p = scratch;
  p.length = 0;
  appendPartials(p, timestamps, words, resolutionMs);
  let size = HEADER;
  for (let k = 0; k < p.length; k++) size += p.count[k] === 1 ? SINGLE : p.corr[k] !== 0 ? FULL + 8 : FULL;
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  view.setUint8(0, FORMAT);
  view.setUint16(1, p.length, true);
  let o = HEADER;
  for (let k = 0; k < p.length; k++) {
    if (p.count[k] === 1) {
      view.setUint8(o, ONE_SAMPLE);
      view.setInt32(o + 1, p.ends[k]! - chunkStartMs, true);
      view.setInt32(o + 5, p.firstTs[k]! - chunkStartMs, true);
      view.setFloat64(o + 9, p.firstV[k]!, true);
      o += SINGLE;
      continue;
    }
    const corr = p.corr[k] !== 0;
    view.setUint8(o, corr ? HAS_CORRECTION : 0);
    view.setInt32(o + 1, p.ends[k]! - chunkStartMs, true);
    view.setUint32(o + 5, p.count[k]!, true);
    view.setInt32(o + 9, p.firstTs[k]! - chunkStartMs, true);
    view.setInt32(o + 13, p.lastTs[k]! - chunkStartMs, true);
    view.setFloat64(o + 17, p.sum[k]!, true);
    view.setFloat64(o + 25, p.min[k]!, true);
    view.setFloat64(o + 33, p.max[k]!, true);
    view.setFloat64(o + 41, p.firstV[k]!, true);
    view.setFloat64(o + 49, p.lastV[k]!, true);
    if (corr) view.setFloat64(o + 57, p.corr[k]!, true);
    o += corr ? FULL + 8 : FULL;
  }
  return buf;
}

/** Appends the partials of one stored rollup row to `out`. */
export function decodeRollupInto(out: RollupColumns, data: Uint8Array, chunkStartMs: number): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (decodeAt(out, view, 0, chunkStartMs) !== data.byteLength)
    throw new StorageError('CORRUPT_CHUNK', `rollup row of ${data.byteLength} bytes with data after its partials`);
}

/**
 * Appends the partials of a series' rows as selectRollupRows concatenates them: per row, the
 * chunk start (int8, big-endian) and then the row's data.
 */
export function decodeRollupRows(out: RollupColumns, data: Uint8Array): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  out.reserve(out.length + countPartials(view));
  let at = 0;
  while (at < data.byteLength) {
    if (at + 8 > data.byteLength) throw new StorageError('CORRUPT_CHUNK', 'rollup rows cut short');
    const chunkStartMs = Number(view.getBigInt64(at));
    at = decodeAt(out, view, at + 8, chunkStartMs);
  }
}

/** How many partials concatenated rows hold (a walk over their headers and flags, for sizing). */
function countPartials(view: DataView): number {
  let total = 0;
  let at = 0;
  while (at + 8 + HEADER <= view.byteLength) {
    const n = view.getUint16(at + 9, true);
    at += 8 + HEADER;
    for (let k = 0; k < n && at < view.byteLength; k++) {
      const flags = view.getUint8(at);
      at += flags & ONE_SAMPLE ? SINGLE : flags & HAS_CORRECTION ? FULL + 8 : FULL;
    }
    total += n;
  }
  return total;
}

/** Decodes the row data at `at`; returns where it ends. */
function decodeAt(out: RollupColumns, view: DataView, at: number, chunkStartMs: number): number {
  if (view.byteLength < at + HEADER || view.getUint8(at) !== FORMAT)
    throw new StorageError(
      'CORRUPT_CHUNK',
      `rollup row of unknown format ${view.byteLength > at ? view.getUint8(at) : '(empty)'}`,
    );
  const n = view.getUint16(at + 1, true);
  let o = at + HEADER;
  const cut = (): StorageError => new StorageError('CORRUPT_CHUNK', `rollup row cut short: ${n} partials`);
  for (let k = 0; k < n; k++) {
    if (o + SINGLE > view.byteLength) throw cut();
    const flags = view.getUint8(o);
    const endMs = chunkStartMs + view.getInt32(o + 1, true);
    if (flags & ONE_SAMPLE) {
      const t = chunkStartMs + view.getInt32(o + 5, true);
      const v = view.getFloat64(o + 9, true);
      // the sum as appendPartials adds it, from 0 (so -0 sums to 0)
      out.push(endMs, 1, 0 + v, v, v, t, v, t, v, 0);
      o += SINGLE;
      continue;
    }
    const size = flags & HAS_CORRECTION ? FULL + 8 : FULL;
    if (o + size > view.byteLength) throw cut();
    out.push(
      endMs,
      view.getUint32(o + 5, true),
      view.getFloat64(o + 17, true),
      view.getFloat64(o + 25, true),
      view.getFloat64(o + 33, true),
      chunkStartMs + view.getInt32(o + 9, true),
      view.getFloat64(o + 41, true),
      chunkStartMs + view.getInt32(o + 13, true),
      view.getFloat64(o + 49, true),
      flags & HAS_CORRECTION ? view.getFloat64(o + 57, true) : 0,
    );
    o += size;
  }
  const end = o;
  return end;
}
