import { decodeHeadPayload } from './head-payload.codec';
import { concat, mergeSorted, sortUnique, wordsOf, type SampleArrays } from './sample-merge';
import { appendChunk, decodeChunk, encodeChunk } from './xor-chunk.codec';

/**
 * The pure core of compaction: head payloads → samples grouped by (series, aligned bucket) →
 * merged with the chunk already stored for that key → re-encoded.
 */
export interface PendingChunk {
  seriesId: number;
  startMs: number;
  samples: SampleArrays;
}

interface Acc {
  seriesId: number;
  startMs: number;
  ts: number[];
  words: number[];
}

export function bucketStart(ms: number, spanMs: number): number {
  return Math.floor(ms / spanMs) * spanMs;
}

export function groupHeadPayloads(payloads: readonly Uint8Array[], spanMs: number): PendingChunk[] {
  // by series, then a short list of buckets (usually one): numeric keys, no per-sample strings
  const groups = new Map<number, Acc[]>();
  for (const raw of payloads) {
    const p = decodeHeadPayload(raw);
    const words = wordsOf(p.values);
    for (let i = 0; i < p.seriesIds.length; i++) {
      const sid = p.seriesIds[i]!;
      const off = p.offsets[i]!;
      for (let j = 0; j < p.counts[i]!; j++) {
        const t = p.timestamps[off + j]!;
        const start = bucketStart(t, spanMs);
        let list = groups.get(sid);
        if (!list) groups.set(sid, (list = []));
        let acc = list.find((a) => a.startMs === start);
        if (!acc) list.push((acc = { seriesId: sid, startMs: start, ts: [], words: [] }));
        acc.ts.push(t);
        acc.words.push(words[2 * (off + j)]!, words[2 * (off + j) + 1]!);
      }
    }
  }
  return [...groups.values()].flat().map((a) => ({
    seriesId: a.seriesId,
    startMs: a.startMs,
    samples: sortUnique({ timestamps: Float64Array.from(a.ts), words: Uint32Array.from(a.words) }),
  }));
}

export function decodeChunkSamples(data: Uint8Array, count: number): SampleArrays {
  const timestamps = new Float64Array(count);
  const words = new Uint32Array(2 * count);
  decodeChunk(data, count, timestamps, words);
  return { timestamps, words };
}

export interface EncodedChunk {
  seriesId: number;
  startMs: number;
  endMs: number;
  count: number;
  data: Uint8Array;
  /** Every sample of the chunk after the merge (its rollups are computed from them). */
  samples: SampleArrays;
}

/**
 * Folds pending samples into the stored chunk (stored samples win on equal timestamps). In the
 * steady state every pending sample comes after the stored ones: they are appended to the stored
 * encoding (unless a value does not fit a decimal chunk's scale), which then costs a decode of the
 * stored samples but no re-encode (late in a bucket
 * the stored part is nearly all of it; at a 1 s interval, thousands of samples a chunk).
 */
export function mergeChunk(
  pending: PendingChunk,
  stored: { count: number; data: Uint8Array } | undefined,
): EncodedChunk {
  const fresh = pending.samples;
  const n = fresh.timestamps.length;
  if (stored && stored.count > 0 && n > 0) {
    const old = { timestamps: new Float64Array(stored.count), words: new Uint32Array(2 * stored.count) };
    const tail = decodeChunk(stored.data, stored.count, old.timestamps, old.words);
    if (fresh.timestamps[0]! > tail.t) {
      const data = appendChunk(stored.data, tail, fresh.timestamps, fresh.words, n);
      const samples = concat([old, fresh]);
      // undefined: the new values do not continue a decimal chunk at its scale
      if (!data) return encoded(pending, samples);
      return {
        seriesId: pending.seriesId,
        startMs: pending.startMs,
        endMs: fresh.timestamps[n - 1]!,
        count: stored.count + n,
        data,
        samples,
      };
    }
    return encoded(pending, mergeSorted(old, fresh));
  }
  return encoded(pending, stored ? mergeSorted(decodeChunkSamples(stored.data, stored.count), fresh) : fresh);
}

function encoded(pending: PendingChunk, merged: SampleArrays): EncodedChunk {
  const n = merged.timestamps.length;
  return {
    seriesId: pending.seriesId,
    startMs: pending.startMs,
    endMs: merged.timestamps[n - 1]!,
    count: n,
    data: encodeChunk(merged.timestamps, merged.words, n),
    samples: merged,
  };
}
