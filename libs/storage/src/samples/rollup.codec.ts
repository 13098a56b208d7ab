/**
 * Rollups: per series, per stored chunk and per resolution, the partial aggregates of the
 * chunk's samples bucket by bucket, where a bucket is `(end - resolution, end]` (left-open like
 * a PromQL range window, so a window of whole buckets at bucket-aligned steps is a union of
 * buckets). A chunk covers `[start, start + span)`, so a sample at exactly `start` belongs to
 * the bucket ending there and that bucket comes as two partials, one from each chunk; readers
 * fold partials in time order, which is exact for every aggregate kept here.
 *
 * Kept per partial: sample count, compensated sum, min and max (NaN only when every sample is
 * NaN, as min/max_over_time), first and last sample, the counter-reset correction (the sum of
 * every sample followed by a lower one), and the time of a stale marker that follows the last
 * sample — enough for avg/sum/min/max/count/present_over_time, rate/increase/delta, and instant
 * selectors evaluated at bucket ends, with the same answer as the raw samples to float rounding.
 * Stale markers count as no sample (range selectors leave them out); a partial of stale markers
 * only is kept for the instant selectors.
 *
 * Encoding (little-endian), after a one-byte format tag and a u16 partial count, per partial a
 * flags byte and i32 bucket end (times are ms after the chunk start), then: for stale markers
 * only, the last one's i32 time (9 bytes); for one sample (the one at exactly the chunk start,
 * mostly) its i32 time and f64 value (17 bytes); otherwise u32 count, i32 first and last sample
 * time, f64 sum, min, max, first and last value (57 bytes), then the f64 correction when it is
 * not 0 and the i32 time of a stale marker after the last sample when there is one.
 */
import type { Labels, RollupSeriesData } from '@arcwatch/contracts';
import { StorageError } from '../errors';

const FORMAT = 1;
const HEADER = 3;
/** A partial of one sample: flags, end, time, value. */
const SINGLE = 17;
/** Any other: flags, end, count, first and last time, sum, min, max, first and last value (+ correction). */
const FULL = 57;
/** Stale markers only: flags, end, the last marker's time. */
const STALE_ONLY = 9;
const ONE_SAMPLE = 1;
const HAS_CORRECTION = 2;
/** A stale marker comes after the last sample: its time follows (i32). */
const HAS_STALE = 4;
const NO_SAMPLE = 8;
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
  staleAfter: Float64Array;

  /**
   * Room for `capacity` partials. With `slab`, the columns are views of it from `at` on (11 ×
   * capacity values): the columns of many series in one allocation (see `slabFor`). Growing past
   * the capacity moves the columns to arrays of their own.
   */
  constructor(capacity = 8, slab?: Float64Array, at = 0) {
    if (slab) {
      const col = (k: number): Float64Array => slab.subarray(at + k * capacity, at + (k + 1) * capacity);
      this.ends = col(0);
      this.count = col(1);
      this.sum = col(2);
      this.min = col(3);
      this.max = col(4);
      this.firstTs = col(5);
      this.firstV = col(6);
      this.lastTs = col(7);
      this.lastV = col(8);
      this.corr = col(9);
      this.staleAfter = col(10);
      return;
    }
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
    this.staleAfter = new Float64Array(capacity);
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
    staleAfter: number,
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
    this.staleAfter[i] = staleAfter;
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
      staleAfter: view('staleAfter'),
    };
  }
}

const COLUMNS = [
  'ends',
  'count',
  'sum',
  'min',
  'max',
  'firstTs',
  'firstV',
  'lastTs',
  'lastV',
  'corr',
  'staleAfter',
] as const;

const bits = new DataView(new ArrayBuffer(8));

/**
 * The running aggregates of the bucket a call of appendPartials ended in, to continue it with
 * later samples exactly as one call over all the samples would (the compensated sum included).
 */
export interface OpenPartial {
  end: number;
  count: number;
  sum: number;
  c: number;
  min: number;
  max: number;
  firstTs: number;
  firstV: number;
  lastTs: number;
  lastV: number;
  corr: number;
  staleAfter: number;
}

/**
 * Appends the partials of sorted, duplicate-free samples [from, to) (values as [lo, hi] bit
 * words) to `out`: one per bucket that holds a sample other than a stale marker. With `resume`
 * (what an earlier call returned, its partial the last one in `out`), samples in that bucket
 * continue it: its partial is replaced. Returns the state of the last bucket.
 */
export function appendPartials(
  out: RollupColumns,
  timestamps: Float64Array,
  words: Uint32Array,
  resolutionMs: number,
  from = 0,
  to = timestamps.length,
  resume?: OpenPartial,
): OpenPartial | undefined {
  let i = from;
  let last: OpenPartial | undefined = resume;
  while (i < to) {
    let end = Math.ceil(timestamps[i]! / resolutionMs) * resolutionMs;
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
    let staleAfter = NaN;
    if (resume && i === from && timestamps[i]! <= resume.end) {
      ({ end, count, sum, c, min, max, firstTs, firstV, lastTs, lastV, corr, staleAfter } = resume);
      out.length--; // its partial is pushed again below, with these samples in it
    }
    for (; i < to && timestamps[i]! <= end; i++) {
      const lo = words[2 * i]!;
      const hi = words[2 * i + 1]!;
      if (hi === STALE_HI && lo === STALE_LO) {
        staleAfter = timestamps[i]!;
        continue;
      }
      staleAfter = NaN;
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
    if (count > 0 || staleAfter === staleAfter)
      out.push(
        end,
        count,
        Number.isFinite(sum) ? sum + c : sum,
        min,
        max,
        firstTs,
        firstV,
        lastTs,
        lastV,
        corr,
        staleAfter,
      );
    last = { end, count, sum, c, min, max, firstTs, firstV, lastTs, lastV, corr, staleAfter };
  }
  return last;
}

/** The partials being encoded, reused: compaction and imports encode thousands of rollups a transaction. */
const scratch = new RollupColumns(64);

/** The rollup of one chunk's samples at one resolution, encoded for its row. */
export function encodeRollup(
  chunkStartMs: number,
  timestamps: Float64Array,
  words: Uint32Array,
  resolutionMs: number,
): Uint8Array {
  return rollupWithState(chunkStartMs, timestamps, words, resolutionMs).data;
}

/**
 * A chunk's rollup with what it takes to extend it when samples are appended to the chunk: the
 * encoded partials before the last bucket and that bucket's running aggregates.
 */
export interface RollupState {
  prefix: Uint8Array;
  prefixCount: number;
  open: OpenPartial | undefined;
}

const NOTHING: RollupState = { prefix: new Uint8Array(0), prefixCount: 0, open: undefined };

/** The rollup of a whole chunk's samples (as encodeRollup) and its state for extendRollup. */
export function rollupWithState(
  chunkStartMs: number,
  timestamps: Float64Array,
  words: Uint32Array,
  resolutionMs: number,
): { data: Uint8Array; state: RollupState } {
  return extendRollup(NOTHING, chunkStartMs, timestamps, words, resolutionMs);
}

/**
 * The rollup of the chunk `state` describes after samples later than all of its own are appended:
 * byte for byte what encodeRollup gives for all the samples, at the cost of the new ones.
 */
export function extendRollup(
  state: RollupState,
  chunkStartMs: number,
  timestamps: Float64Array,
  words: Uint32Array,
  resolutionMs: number,
): { data: Uint8Array; state: RollupState } {
  const p = scratch;
  p.length = 0;
  const o = state.open;
  if (o) {
    const sum = Number.isFinite(o.sum) ? o.sum + o.c : o.sum;
    p.push(o.end, o.count, sum, o.min, o.max, o.firstTs, o.firstV, o.lastTs, o.lastV, o.corr, o.staleAfter);
  }
  const open = appendPartials(p, timestamps, words, resolutionMs, 0, timestamps.length, o);
  // the last partial is the open bucket's when it was pushed (a bucket of nothing is not)
  const closed = open && p.length > 0 && p.ends[p.length - 1] === open.end ? p.length - 1 : p.length;
  const prefix = concatBytes([state.prefix, encodePartials(p, 0, closed, chunkStartMs)]);
  return {
    data: rollupRow(state.prefixCount + p.length, [prefix, encodePartials(p, closed, p.length, chunkStartMs)]),
    state: { prefix, prefixCount: state.prefixCount + closed, open },
  };
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const x of parts) n += x.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

/** A rollup row: the format tag, the partial count, then the encoded partials. */
function rollupRow(count: number, parts: readonly Uint8Array[]): Uint8Array {
  let size = HEADER;
  for (const x of parts) size += x.length;
  const buf = new Uint8Array(size);
  buf[0] = FORMAT;
  buf[1] = count & 0xff;
  buf[2] = count >>> 8;
  let o = HEADER;
  for (const x of parts) {
    buf.set(x, o);
    o += x.length;
  }
  return buf;
}

/** Partials [from, to) of `p`, encoded without the row header. */
function encodePartials(p: RollupColumns, from: number, to: number, chunkStartMs: number): Uint8Array {
  let size = 0;
  for (let k = from; k < to; k++) size += partialSize(flagsOf(p, k));
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  let o = 0;
  for (let k = from; k < to; k++) {
    const flags = flagsOf(p, k);
    view.setUint8(o, flags);
    view.setInt32(o + 1, p.ends[k]! - chunkStartMs, true);
    if (flags & NO_SAMPLE) {
      view.setInt32(o + 5, p.staleAfter[k]! - chunkStartMs, true);
      o += STALE_ONLY;
      continue;
    }
    if (flags & ONE_SAMPLE) {
      view.setInt32(o + 5, p.firstTs[k]! - chunkStartMs, true);
      view.setFloat64(o + 9, p.firstV[k]!, true);
      o += SINGLE;
      continue;
    }
    const corr = (flags & HAS_CORRECTION) !== 0;
    view.setUint32(o + 5, p.count[k]!, true);
    view.setInt32(o + 9, p.firstTs[k]! - chunkStartMs, true);
    view.setInt32(o + 13, p.lastTs[k]! - chunkStartMs, true);
    view.setFloat64(o + 17, p.sum[k]!, true);
    view.setFloat64(o + 25, p.min[k]!, true);
    view.setFloat64(o + 33, p.max[k]!, true);
    view.setFloat64(o + 41, p.firstV[k]!, true);
    view.setFloat64(o + 49, p.lastV[k]!, true);
    if (corr) view.setFloat64(o + 57, p.corr[k]!, true);
    if (flags & HAS_STALE) view.setInt32(o + (corr ? 65 : 57), p.staleAfter[k]! - chunkStartMs, true);
    o += partialSize(flags);
  }
  return buf;
}

function flagsOf(p: RollupColumns, k: number): number {
  if (p.count[k] === 0) return NO_SAMPLE;
  const stale = p.staleAfter[k] === p.staleAfter[k];
  if (p.count[k] === 1 && !stale) return ONE_SAMPLE;
  return (p.corr[k] !== 0 ? HAS_CORRECTION : 0) | (stale ? HAS_STALE : 0);
}

function partialSize(flags: number): number {
  if (flags & NO_SAMPLE) return STALE_ONLY;
  if (flags & ONE_SAMPLE) return SINGLE;
  return FULL + (flags & HAS_CORRECTION ? 8 : 0) + (flags & HAS_STALE ? 4 : 0);
}

/**
 * Appends the partials of a series' rows as selectRollupRows concatenates them: per row, the
 * chunk start (int8, big-endian) and then the row's data.
 */
export function decodeRollupRows(out: RollupColumns, data: Uint8Array): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  out.reserve(out.length + countPartials(view));
  decodeRowsOf(out, view);
}

/**
 * `decodeRollupRows` over rows one piece each, as `splitRollupRows` cuts them (the 8-byte chunk
 * start, then the row), in order, with one allocation of the columns for all of them. A piece
 * that does not end where its row does is refused.
 */
export function decodeRollupPieces(out: RollupColumns, pieces: readonly Uint8Array[]): void {
  out.reserve(out.length + countRollupPartials(pieces));
  // one DataView per underlying buffer, not per piece: a week of 1,000 series is 84,000 pieces
  let buffer: ArrayBufferLike | undefined;
  let view: DataView | undefined;
  for (const p of pieces) {
    if (p.buffer !== buffer) {
      buffer = p.buffer;
      view = new DataView(buffer);
    }
    const start = p.byteOffset;
    if (p.byteLength < 8 + HEADER) throw new StorageError('CORRUPT_CHUNK', 'rollup rows cut short');
    const end = decodeAt(out, view!, start + 8, Number(view!.getBigInt64(start)), start + p.byteLength);
    if (end !== start + p.byteLength) throw new StorageError('CORRUPT_CHUNK', 'rollup piece is not one row');
  }
}

/** Values a slab needs for columns of `capacity` partials (RollupColumns' constructor). */
export const SLAB_VALUES_PER_PARTIAL = 11;

/** How many partials rows one piece each (`splitRollupRows`) hold: their headers' counts. */
export function countRollupPartials(pieces: readonly Uint8Array[]): number {
  let total = 0;
  for (const p of pieces) if (p.byteLength >= 8 + HEADER) total += p[9]! | (p[10]! << 8);
  return total;
}

/**
 * Concatenated rows (as selectRollupRows returns them) cut into one piece per row: its chunk
 * start and its bytes, the 8-byte prefix included, so that any run of pieces decodes as rows.
 */
export function splitRollupRows(data: Uint8Array): Array<{ chunkStartMs: number; bytes: Uint8Array }> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Array<{ chunkStartMs: number; bytes: Uint8Array }> = [];
  let at = 0;
  while (at < data.byteLength) {
    if (at + 8 + HEADER > data.byteLength) throw new StorageError('CORRUPT_CHUNK', 'rollup rows cut short');
    const chunkStartMs = Number(view.getBigInt64(at));
    const n = view.getUint16(at + 9, true);
    let end = at + 8 + HEADER;
    for (let k = 0; k < n; k++) {
      if (end >= data.byteLength) throw new StorageError('CORRUPT_CHUNK', `rollup row cut short: ${n} partials`);
      end += partialSize(view.getUint8(end));
    }
    if (end > data.byteLength) throw new StorageError('CORRUPT_CHUNK', `rollup row cut short: ${n} partials`);
    out.push({ chunkStartMs, bytes: data.subarray(at, end) });
    at = end;
  }
  return out;
}

function decodeRowsOf(out: RollupColumns, view: DataView): void {
  let at = 0;
  while (at < view.byteLength) {
    if (at + 8 > view.byteLength) throw new StorageError('CORRUPT_CHUNK', 'rollup rows cut short');
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
      at += partialSize(view.getUint8(at));
    }
    total += n;
  }
  return total;
}

/** Decodes the row data at `at`, which may not reach past `limit`; returns where it ends. */
function decodeAt(
  out: RollupColumns,
  view: DataView,
  at: number,
  chunkStartMs: number,
  limit = view.byteLength,
): number {
  if (limit < at + HEADER || view.getUint8(at) !== FORMAT)
    throw new StorageError(
      'CORRUPT_CHUNK',
      `rollup row of unknown format ${limit > at ? view.getUint8(at) : '(empty)'}`,
    );
  const n = view.getUint16(at + 1, true);
  let o = at + HEADER;
  const cut = (): StorageError => new StorageError('CORRUPT_CHUNK', `rollup row cut short: ${n} partials`);
  for (let k = 0; k < n; k++) {
    if (o + STALE_ONLY > limit) throw cut();
    const flags = view.getUint8(o);
    const size = partialSize(flags);
    if (o + size > limit) throw cut();
    const endMs = chunkStartMs + view.getInt32(o + 1, true);
    if (flags & NO_SAMPLE) {
      out.push(endMs, 0, 0, NaN, NaN, 0, NaN, 0, NaN, 0, chunkStartMs + view.getInt32(o + 5, true));
      o += size;
      continue;
    }
    if (flags & ONE_SAMPLE) {
      const t = chunkStartMs + view.getInt32(o + 5, true);
      const v = view.getFloat64(o + 9, true);
      // the sum as appendPartials adds it, from 0 (so -0 sums to 0)
      out.push(endMs, 1, 0 + v, v, v, t, v, t, v, 0, NaN);
      o += size;
      continue;
    }
    const corr = (flags & HAS_CORRECTION) !== 0;
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
      corr ? view.getFloat64(o + 57, true) : 0,
      flags & HAS_STALE ? chunkStartMs + view.getInt32(o + (corr ? 65 : 57), true) : NaN,
    );
    o += size;
  }
  const end = o;
  return end;
}
