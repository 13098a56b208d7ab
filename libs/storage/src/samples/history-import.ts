import type { Labels } from '@arcwatch/contracts';
import { StorageError } from '../errors';
import { bucketStart, type PendingChunk } from './chunk-compaction';
import { sortUnique, wordsOf, type SampleArrays } from './sample-merge';

/** One series of bulk history: its labels and its samples (values as Float64Array, bits kept). */
export interface HistorySeries {
  labels: Labels;
  timestamps: Float64Array;
  values: Float64Array;
}

/**
 * The samples of one series cut at aligned bucket boundaries, as views into the sorted input
 * (no copy when the input was already sorted). Timestamps must be integer milliseconds.
 */
export function historyChunks(
  seriesId: number,
  timestamps: Float64Array,
  values: Float64Array,
  spanMs: number,
): PendingChunk[] {
  if (timestamps.length !== values.length)
    throw new StorageError('INVALID_BATCH', 'timestamps and values differ in length');
  for (let i = 0; i < timestamps.length; i++) {
    if (!Number.isSafeInteger(timestamps[i]!))
      throw new StorageError('INVALID_BATCH', `timestamp ${timestamps[i]} is not an integer (ms)`);
  }
  const s: SampleArrays = sortUnique({ timestamps, words: wordsOf(values) });
  const out: PendingChunk[] = [];
  const ts = s.timestamps;
  let from = 0;
  while (from < ts.length) {
    const start = bucketStart(ts[from]!, spanMs);
    const limit = start + spanMs;
    let to = from + 1;
    while (to < ts.length && ts[to]! < limit) to++;
    out.push({
      seriesId,
      startMs: start,
      samples: { timestamps: ts.subarray(from, to), words: s.words.subarray(2 * from, 2 * to) },
    });
    from = to;
  }
  return out;
}
