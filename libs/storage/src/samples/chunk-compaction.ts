import { decodeHeadPayload } from './head-payload.codec';
import { extendRollup, rollupWithState, type RollupState } from './rollup.codec';
import { concat, mergeSorted, sortUnique, wordsOf, type SampleArrays } from './sample-merge';
import {
  appendChunkSuffix,
  appendChunkWithTail,
  chunkEdge,
  decodeChunk,
  encodeChunkWithTail,
  type ChunkEdge,
  type ChunkTail,
} from './chunk.codec';

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

/**
 * Groups head payloads by (series, aligned bucket), one payload at a time, so that a caller can
 * let other work run between payloads (EventLoopSlices).
 */
export class HeadGrouper {
  // by series, then a short list of buckets (usually one): numeric keys, no per-sample strings
  private readonly groups = new Map<number, Acc[]>();

  constructor(private readonly spanMs: number) {}

  add(raw: Uint8Array): void {
    const p = decodeHeadPayload(raw);
    const words = wordsOf(p.values);
    for (let i = 0; i < p.seriesIds.length; i++) {
      const sid = p.seriesIds[i]!;
      const off = p.offsets[i]!;
      let list = this.groups.get(sid);
      if (!list) this.groups.set(sid, (list = []));
      for (let j = 0; j < p.counts[i]!; j++) {
        const t = p.timestamps[off + j]!;
        const start = bucketStart(t, this.spanMs);
        let acc = list.find((a) => a.startMs === start);
        if (!acc) list.push((acc = { seriesId: sid, startMs: start, ts: [], words: [] }));
        acc.ts.push(t);
        acc.words.push(words[2 * (off + j)]!, words[2 * (off + j) + 1]!);
      }
    }
  }

  /** The groups, each sorted by timestamp with replayed timestamps dropped (the first one wins). */
  *chunks(): Generator<PendingChunk> {
    for (const list of this.groups.values())
      for (const a of list)
        yield {
          seriesId: a.seriesId,
          startMs: a.startMs,
          samples: sortUnique({ timestamps: Float64Array.from(a.ts), words: Uint32Array.from(a.words) }),
        };
  }
}

export function decodeChunkSamples(data: Uint8Array, count: number): SampleArrays {
  const timestamps = new Float64Array(count);
  const words = new Uint32Array(2 * count);
  decodeChunk(data, count, timestamps, words);
  return { timestamps, words };
}

/** A chunk to write whole. */
export interface EncodedChunk {
  seriesId: number;
  startMs: number;
  endMs: number;
  count: number;
  data: Uint8Array;
  /** The chunk's rollup row at each resolution asked for. */
  rollups: ReadonlyMap<number, Uint8Array>;
  /** What it takes to append to this chunk later without decoding it (see ChunkStates). */
  state: ChunkState;
}

/**
 * Samples appended to a stored chunk without its bytes (appendKnown): the stored row, while it
 * still has `fromCount` samples in `fromBytes` bytes, becomes its first `keep` bytes followed by
 * `suffix`, with `count` samples ending at `endMs`.
 */
export interface AppendedChunk extends Omit<EncodedChunk, 'data'> {
  append: { keep: number; suffix: Uint8Array; fromCount: number; fromBytes: number };
}

/** What a compaction transaction writes of one chunk: the whole chunk, or an append to it. */
export type ChunkWriteOf = EncodedChunk | AppendedChunk;

/**
 * Where a chunk's encoding and its rollups stand after its last sample, and the stored row it
 * describes (sample count and bytes, which only ever grow: stored samples are never replaced).
 */
export interface ChunkState {
  count: number;
  bytes: number;
  tail: ChunkTail;
  /** The chunk's format bytes and the byte its encoding ends in. */
  edge: ChunkEdge;
  rollups: ReadonlyMap<number, RollupState>;
}

/**
 * The states of the chunks a compactor wrote, by (series, bucket): late in a 2 h bucket at a 1 s
 * interval a chunk holds thousands of samples, and decoding each one again to add a minute's
 * samples (and to recompute its rollups) was most of a compaction pass's time. A state is used
 * only while the stored row still has the count and byte length it was written with, so a write
 * by anyone else (an import, another process) sends that chunk down the decoding path.
 */
export class ChunkStates {
  private readonly states = new Map<string, ChunkState>();

  get size(): number {
    return this.states.size;
  }

  /** The state of the stored row with `stored.count` samples in `stored.bytes` bytes, if it is the one written. */
  get(seriesId: number, startMs: number, stored: { count: number; bytes: number }): ChunkState | undefined {
    const s = this.states.get(`${seriesId}:${startMs}`);
    return s && s.count === stored.count && s.bytes === stored.bytes ? s : undefined;
  }

  set(chunk: ChunkWriteOf): void {
    this.states.set(`${chunk.seriesId}:${chunk.startMs}`, chunk.state);
  }

  clear(): void {
    this.states.clear();
  }

  /** Forgets the chunks of buckets that start before `startMs` (compaction has moved on). */
  forgetBefore(startMs: number): void {
    for (const key of this.states.keys())
      if (Number(key.slice(key.indexOf(':') + 1)) < startMs) this.states.delete(key);
  }
}

/**
 * Folds pending samples into the stored chunk (stored samples win on equal timestamps). In the
 * steady state every pending sample comes after the stored ones: they are appended to the stored
 * encoding (unless a value does not fit a decimal chunk's scale). With the chunk's `known` state
 * that costs the new samples only; without it, a decode of the stored samples. Rollups are
 * computed at each of `resolutionsMs`, extended from the known state when there is one.
 */
export function mergeChunk(
  pending: PendingChunk,
  stored: { count: number; data: Uint8Array } | undefined,
  resolutionsMs: readonly number[] = [],
  known?: ChunkState,
): EncodedChunk {
  const fresh = pending.samples;
  const n = fresh.timestamps.length;
  if (stored && stored.count > 0 && n > 0) {
    const appended = known && appendKnown(pending, known, resolutionsMs);
    if (appended) {
      const { append, ...rest } = appended;
      const data = new Uint8Array(append.keep + append.suffix.length);
      data.set(stored.data.subarray(0, append.keep));
      data.set(append.suffix, append.keep);
      return { ...rest, data };
    }
    const old = { timestamps: new Float64Array(stored.count), words: new Uint32Array(2 * stored.count) };
    const tail = decodeChunk(stored.data, stored.count, old.timestamps, old.words);
    if (fresh.timestamps[0]! > tail.t) {
      const next = appendChunkWithTail(stored.data, tail, fresh.timestamps, fresh.words, n);
      const all = concat([old, fresh]);
      // undefined: the new values do not continue a decimal chunk at its scale
      return next ? withRollups(pending, all, next, resolutionsMs) : encoded(pending, all, resolutionsMs);
    }
    return encoded(pending, mergeSorted(old, fresh), resolutionsMs);
  }
  return encoded(
    pending,
    stored && stored.count > 0 ? mergeSorted(decodeChunkSamples(stored.data, stored.count), fresh) : fresh,
    resolutionsMs,
  );
}

/**
 * The pending samples appended to a stored chunk from its known state alone, without the chunk's
 * bytes: only when they all come after its last sample, its rollups are known at every
 * resolution asked for, and they continue its encoding (a decimal chunk's scale). Otherwise
 * undefined, and the chunk goes through mergeChunk with its bytes.
 */
export function appendKnown(
  pending: PendingChunk,
  known: ChunkState,
  resolutionsMs: readonly number[] = [],
): AppendedChunk | undefined {
  const fresh = pending.samples;
  const n = fresh.timestamps.length;
  if (n === 0 || !(fresh.timestamps[0]! > known.tail.t) || !resolutionsMs.every((r) => known.rollups.has(r)))
    return undefined;
  const next = appendChunkSuffix(known.edge, known.tail, fresh.timestamps, fresh.words, n);
  if (!next) return undefined;
  const rollups = new Map<number, Uint8Array>();
  const states = new Map<number, RollupState>();
  for (const res of resolutionsMs) {
    const r = extendRollup(known.rollups.get(res)!, pending.startMs, fresh.timestamps, fresh.words, res);
    rollups.set(res, r.data);
    states.set(res, r.state);
  }
  const count = known.count + n;
  return {
    seriesId: pending.seriesId,
    startMs: pending.startMs,
    endMs: fresh.timestamps[n - 1]!,
    count,
    rollups,
    state: { count, bytes: next.keep + next.suffix.length, tail: next.tail, edge: next.edge, rollups: states },
    append: { keep: next.keep, suffix: next.suffix, fromCount: known.count, fromBytes: known.bytes },
  };
}

function encoded(pending: PendingChunk, merged: SampleArrays, resolutionsMs: readonly number[]): EncodedChunk {
  return withRollups(
    pending,
    merged,
    encodeChunkWithTail(merged.timestamps, merged.words, merged.timestamps.length),
    resolutionsMs,
  );
}

function withRollups(
  pending: PendingChunk,
  all: SampleArrays,
  enc: { data: Uint8Array; tail: ChunkTail },
  resolutionsMs: readonly number[],
): EncodedChunk {
  const rollups = new Map<number, Uint8Array>();
  const states = new Map<number, RollupState>();
  for (const res of resolutionsMs) {
    const r = rollupWithState(pending.startMs, all.timestamps, all.words, res);
    rollups.set(res, r.data);
    states.set(res, r.state);
  }
  const n = all.timestamps.length;
  return chunk(pending, all.timestamps[n - 1]!, n, enc, rollups, states);
}

function chunk(
  pending: PendingChunk,
  endMs: number,
  count: number,
  enc: { data: Uint8Array; tail: ChunkTail },
  rollups: ReadonlyMap<number, Uint8Array>,
  states: ReadonlyMap<number, RollupState>,
): EncodedChunk {
  return {
    seriesId: pending.seriesId,
    startMs: pending.startMs,
    endMs,
    count,
    data: enc.data,
    rollups,
    state: { count, bytes: enc.data.byteLength, tail: enc.tail, edge: chunkEdge(enc.data, enc.tail), rollups: states },
  };
}
