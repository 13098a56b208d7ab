/**
 * Pure sample-array helpers shared by compaction and reads. Samples travel as a Float64Array
 * of timestamps (ms) and a Uint32Array of value bits ([lo, hi] per sample), so values are never
 * touched as numbers and NaN payloads stay bit-exact.
 */
export interface SampleArrays {
  timestamps: Float64Array;
  words: Uint32Array;
}

export const EMPTY_SAMPLES: SampleArrays = { timestamps: new Float64Array(0), words: new Uint32Array(0) };

function isStrictlyAscending(ts: Float64Array): boolean {
  for (let i = 1; i < ts.length; i++) if (ts[i]! <= ts[i - 1]!) return false;
  return true;
}

/** Sorts by time and keeps the first sample of each timestamp (the earliest written). */
export function sortUnique(s: SampleArrays): SampleArrays {
  if (isStrictlyAscending(s.timestamps)) return s;
  const n = s.timestamps.length;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => s.timestamps[a]! - s.timestamps[b]! || a - b); // stable: first write wins
  const ts = new Float64Array(n);
  const words = new Uint32Array(2 * n);
  let k = 0;
  for (const i of order) {
    const t = s.timestamps[i]!;
    if (k > 0 && ts[k - 1] === t) continue;
    ts[k] = t;
    words[2 * k] = s.words[2 * i]!;
    words[2 * k + 1] = s.words[2 * i + 1]!;
    k++;
  }
  return { timestamps: ts.subarray(0, k), words: words.subarray(0, 2 * k) };
}

/**
 * Merges two sorted, duplicate-free sample arrays. On equal timestamps `older` wins: a replayed
 * batch must never overwrite what is stored.
 */
export function mergeSorted(older: SampleArrays, newer: SampleArrays): SampleArrays {
  const a = older.timestamps;
  const b = newer.timestamps;
  if (b.length === 0) return older;
  if (a.length === 0) return newer;
  if (b[0]! > a[a.length - 1]!) return concat([older, newer]);
  const ts = new Float64Array(a.length + b.length);
  const words = new Uint32Array(2 * ts.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length || j < b.length) {
    let fromA: boolean;
    if (j >= b.length) fromA = true;
    else if (i >= a.length) fromA = false;
    else if (a[i]! === b[j]!) {
      j++; // duplicate timestamp: drop the newer one
      continue;
    } else fromA = a[i]! < b[j]!;
    const src = fromA ? older : newer;
    const idx = fromA ? i++ : j++;
    ts[k] = src.timestamps[idx]!;
    words[2 * k] = src.words[2 * idx]!;
    words[2 * k + 1] = src.words[2 * idx + 1]!;
    k++;
  }
  return { timestamps: ts.subarray(0, k), words: words.subarray(0, 2 * k) };
}

export function concat(parts: readonly SampleArrays[]): SampleArrays {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.timestamps.length;
  const ts = new Float64Array(n);
  const words = new Uint32Array(2 * n);
  let k = 0;
  for (const p of parts) {
    ts.set(p.timestamps, k);
    words.set(p.words, 2 * k);
    k += p.timestamps.length;
  }
  return { timestamps: ts, words };
}

/** The samples with startMs ≤ t ≤ endMs, as views (no copy). */
export function clip(s: SampleArrays, startMs: number, endMs: number): SampleArrays {
  const ts = s.timestamps;
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < startMs) lo = mid + 1;
    else hi = mid;
  }
  let end = lo;
  hi = ts.length;
  while (end < hi) {
    const mid = (end + hi) >>> 1;
    if (ts[mid]! <= endMs) end = mid + 1;
    else hi = mid;
  }
  return { timestamps: ts.subarray(lo, end), words: s.words.subarray(2 * lo, 2 * end) };
}

/** A Float64Array of the values whose bits are `words` (copying, to own an aligned buffer). */
export function valuesOf(words: Uint32Array): Float64Array {
  const own = new Uint32Array(words.length);
  own.set(words);
  return new Float64Array(own.buffer);
}

/** The values whose bits are `words`, as a view (words must start on an 8-byte boundary). */
export function valuesView(words: Uint32Array): Float64Array {
  return new Float64Array(words.buffer, words.byteOffset, words.length / 2);
}

/** The [lo, hi] bit words of a Float64Array (a view, no copy). */
export function wordsOf(values: Float64Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
}
