/**
 * The chunk side of `SampleStore.select`: fetches the chunks of the selected series (split over
 * two connections, so PostgreSQL scans both halves at once), decodes every series straight into
 * one pair of arrays sized from the chunks' counts, and keeps decoded chunks in a byte-bounded
 * LRU cache. A cached chunk is used only while its row version (the writing
 * transaction's id and the sample count, sample-store.repository.ts) is the one PostgreSQL
 * reports, so compaction or an import rewriting it in any process is noticed:
 * with a warm cache a read asks PostgreSQL for versions only and fetches the rows that changed.
 */
import type { Pool } from 'pg';
import { decodeChunk } from './xor-chunk.codec';
import * as repo from './sample-store.repository';

/** The stored samples of one series in a window: timestamps and values, decoded. */
export interface DecodedSeries {
  timestamps: Float64Array;
  values: Float64Array;
}

interface CachedChunk {
  version: string;
  timestamps: Float64Array;
  values: Float64Array;
}

/** Decoded chunks by (series, bucket start), least recently used first, bounded by bytes. */
export class ChunkCache {
  private readonly entries = new Map<string, CachedChunk>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  get size(): number {
    return this.entries.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  /** The chunk if cached at exactly this version (a hit also makes it the most recent). */
  get(key: string, version: string): CachedChunk | undefined {
    const c = this.entries.get(key);
    if (!c || c.version !== version) {
      this.misses++;
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, c);
    this.hits++;
    return c;
  }

  set(key: string, chunk: CachedChunk): void {
    const size = chunk.timestamps.byteLength + chunk.values.byteLength + 64;
    if (size > this.maxBytes) return;
    this.delete(key);
    this.entries.set(key, chunk);
    this.bytes += size;
    for (const [k, c] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= c.timestamps.byteLength + c.values.byteLength + 64;
    }
  }

  private delete(key: string): void {
    const c = this.entries.get(key);
    if (!c) return;
    this.entries.delete(key);
    this.bytes -= c.timestamps.byteLength + c.values.byteLength + 64;
  }
}

export interface ChunkReadContext {
  pool: Pool;
  schema: string;
  spanMs: number;
  /** Undefined: no cache. */
  cache: ChunkCache | undefined;
  /** The reader's clock (kept for callers; every chunk is cached at its version, see remember). */
  nowMs: number;
}

/** Connections one read is split over. */
const PARALLEL_PARTS = 2;

function halves(ids: readonly number[]): number[][] {
  if (ids.length < 2 * PARALLEL_PARTS) return [[...ids]];
  const size = Math.ceil(ids.length / PARALLEL_PARTS);
  const out: number[][] = [];
  for (let i = 0; i < ids.length; i += size) out.push(ids.slice(i, i + size));
  return out;
}

async function inParts(
  ids: readonly number[],
  fetch: (part: number[]) => Promise<repo.ChunkColumns>,
): Promise<repo.ChunkColumns[]> {
  return Promise.all(halves(ids).map(fetch));
}

/** Where chunk j of a read lands: the read's shared arrays and the offset into them. */
interface Slot {
  timestamps: Float64Array;
  values: Float64Array;
  /** The bits of `values`: decodeChunk writes words, and a view per chunk costs more than its decode. */
  words: Uint32Array;
  offset: number;
}

/**
 * Sizes one timestamp array and one value array for the whole read from the chunk counts (one
 * allocation each rather than two per series: thousands of small typed arrays measured ~80 ms
 * a read), hands every series its range as views, and says where each chunk goes.
 */
function layout(parts: readonly repo.ChunkColumns[]): { bySeries: Map<number, DecodedSeries>; slots: Slot[][] } {
  const totals = new Map<number, number>();
  for (const p of parts)
    for (let j = 0; j < p.seriesIds.length; j++)
      totals.set(p.seriesIds[j]!, (totals.get(p.seriesIds[j]!) ?? 0) + p.counts[j]!);
  let all = 0;
  for (const n of totals.values()) all += n;
  const timestamps = new Float64Array(all);
  const words = new Uint32Array(2 * all);
  const values = new Float64Array(words.buffer);
  const bySeries = new Map<number, DecodedSeries>();
  const next = new Map<number, number>();
  let at = 0;
  for (const [id, n] of totals) {
    bySeries.set(id, { timestamps: timestamps.subarray(at, at + n), values: values.subarray(at, at + n) });
    next.set(id, at);
    at += n;
  }
  const slots = parts.map((p) =>
    p.seriesIds.map((id, j) => {
      const offset = next.get(id)!;
      next.set(id, offset + p.counts[j]!);
      return { timestamps, values, words, offset };
    }),
  );
  return { bySeries, slots };
}

function decodeInto(base64: string, count: number, slot: Slot): void {
  // copied out of the Buffer: decoding straight from Buffer.from(…, 'base64') measured 3–5× slower
  decodeChunk(new Uint8Array(Buffer.from(base64, 'base64')), count, slot.timestamps, slot.words, slot.offset);
}

/**
 * Every chunk read is cached at its row version, the open bucket's too: a rewrite (compaction,
 * about once a minute for the open bucket) changes the version, and the next read fetches that
 * chunk again and replaces the entry under the same key. Leaving the open bucket out made every
 * read of the last hours fetch and decode its newest chunks again (a quarter of a 6 h query's).
 */
function remember(ctx: ChunkReadContext, p: repo.ChunkColumns, j: number, slot: Slot): void {
  if (!ctx.cache) return;
  const n = p.counts[j]!;
  ctx.cache.set(`${p.seriesIds[j]}:${p.startMs[j]}`, {
    version: p.versions[j]!,
    timestamps: slot.timestamps.slice(slot.offset, slot.offset + n),
    values: slot.values.slice(slot.offset, slot.offset + n),
  });
}

/**
 * The stored (chunk) samples of `ids` in chunks overlapping [startMs, endMs], per series, in
 * time order and not yet clipped to the window.
 */
export async function readChunks(
  ctx: ChunkReadContext,
  ids: readonly number[],
  startMs: number,
  endMs: number,
): Promise<Map<number, DecodedSeries>> {
  if (ctx.cache && ctx.cache.size > 0) {
    const cached = await readWithCache(ctx, ctx.cache, ids, startMs, endMs);
    if (cached) return cached;
  }
  const parts = await inParts(ids, (part) => repo.selectChunks(ctx.pool, ctx.schema, part, startMs, endMs, ctx.spanMs));
  const { bySeries, slots } = layout(parts);
  parts.forEach((p, i) => {
    for (let j = 0; j < p.seriesIds.length; j++) {
      decodeInto(p.data[j]!, p.counts[j]!, slots[i]![j]!);
      remember(ctx, p, j, slots[i]![j]!);
    }
  });
  return bySeries;
}

/** Versions first, then only the chunks not cached at that version; undefined if a row changed between the two. */
async function readWithCache(
  ctx: ChunkReadContext,
  cache: ChunkCache,
  ids: readonly number[],
  startMs: number,
  endMs: number,
): Promise<Map<number, DecodedSeries> | undefined> {
  const parts = await inParts(ids, (part) =>
    repo.selectChunks(ctx.pool, ctx.schema, part, startMs, endMs, ctx.spanMs, false),
  );
  const { bySeries, slots } = layout(parts);
  const missing = new Map<string, { slot: Slot; version: string; count: number }>();
  parts.forEach((p, i) => {
    for (let j = 0; j < p.seriesIds.length; j++) {
      const key = `${p.seriesIds[j]}:${p.startMs[j]}`;
      const slot = slots[i]![j]!;
      const hit = cache.get(key, p.versions[j]!);
      if (hit) {
        slot.timestamps.set(hit.timestamps, slot.offset);
        slot.values.set(hit.values, slot.offset);
      } else missing.set(key, { slot, version: p.versions[j]!, count: p.counts[j]! });
    }
  });
  if (missing.size === 0) return bySeries;
  const keys = [...missing.keys()].map((k) => k.split(':').map(Number) as [number, number]);
  const fetched = await inParts(
    keys.map((_, i) => i),
    (part) =>
      repo.selectChunksAt(
        ctx.pool,
        ctx.schema,
        part.map((i) => keys[i]![0]),
        part.map((i) => keys[i]![1]),
      ),
  );
  let found = 0;
  for (const p of fetched) {
    for (let j = 0; j < p.seriesIds.length; j++) {
      const want = missing.get(`${p.seriesIds[j]}:${p.startMs[j]}`);
      // rewritten since the version query: its count may differ, so read everything afresh
      if (!want || want.version !== p.versions[j] || want.count !== p.counts[j]) return undefined;
      decodeInto(p.data[j]!, p.counts[j]!, want.slot);
      remember(ctx, p, j, want.slot);
      found++;
    }
  }
  return found === missing.size ? bySeries : undefined;
}
