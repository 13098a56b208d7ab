/**
 * The stored side of `SampleStore.selectRollups`: the rollup rows of the selected series, with a
 * cache of them per resolution and chunk bucket.
 *
 * A rollup row is written only with its chunk (compaction, history import) or by the rollup
 * backfill, and each of those gives the bucket a new change number in the writing transaction
 * (`chunk_changes`, as for the decoded-chunk cache). A read asks for the numbers of its buckets
 * (one small query, before any row) and takes from the cache every bucket still at the number
 * it was fetched at; only the buckets that changed, or the series a cached bucket was not asked
 * for, are fetched, as one statement over the smallest range of buckets that holds them. The
 * buckets a range query reads from rollups end before the head's oldest sample, so compaction,
 * which writes at the head's end, does not change them: a repeated dashboard query reads its
 * week of partials from memory.
 *
 * A bucket without a change number (written before migration 0005, or forgotten by retention) is
 * fetched every time and not kept. A kept bucket is fetched again after ROLLUP_REVALIDATE_MS
 * whatever its number says (a hand-made UPDATE, or a writer from before the numbers, would not
 * move it).
 */
import type { Pool } from 'pg';
import { splitRollupRows } from './rollup.codec';
import * as rollupRepo from './rollup.repository';
import * as repo from './sample-store.repository';

/** A kept bucket is fetched again at least this often, whatever its change number says. */
export const ROLLUP_REVALIDATE_MS = 5 * 60_000;

const EMPTY = new Uint8Array(0);
const ENTRY_OVERHEAD_BYTES = 256;
const PIECE_OVERHEAD_BYTES = 48;

/** One bucket of one resolution: its rows by series, at the change number they were fetched at. */
interface BucketEntry {
  stamp: string;
  fetchedAtMs: number;
  /** Row bytes (the 8-byte chunk start, then the row) by series id; empty: the series has no row there. */
  rows: Map<number, Uint8Array>;
  bytes: number;
  /** Series lists (ids joined) this entry holds every series of: a read of one skips the lookups. */
  holds: Set<string>;
}

/** Series lists an entry remembers holding; past that it forgets them and looks the ids up again. */
const HOLDS_KEPT = 16;

/** Buckets of rollup rows, least recently used first, bounded by bytes. */
export class RollupCache {
  private readonly entries = new Map<string, BucketEntry>();
  private bytes = 0;
  /** Bucket × series pieces served from the cache, and fetched, since start. */
  hits = 0;
  misses = 0;

  constructor(private readonly maxBytes: number) {}

  get(resolutionMs: number, startMs: number): BucketEntry | undefined {
    const key = `${resolutionMs}:${startMs}`;
    const e = this.entries.get(key);
    if (e) {
      this.entries.delete(key);
      this.entries.set(key, e);
    }
    return e;
  }

  /** Adds fetched rows to the bucket's entry (a new one when the stamp differs), then evicts. */
  put(
    resolutionMs: number,
    startMs: number,
    stamp: string,
    nowMs: number,
    rows: ReadonlyMap<number, Uint8Array>,
  ): BucketEntry {
    const key = `${resolutionMs}:${startMs}`;
    let e = this.entries.get(key);
    if (!e || e.stamp !== stamp) {
      if (e) this.drop(key, e);
      e = { stamp, fetchedAtMs: nowMs, rows: new Map(), bytes: ENTRY_OVERHEAD_BYTES, holds: new Set() };
      this.entries.set(key, e);
      this.bytes += e.bytes;
    }
    for (const [id, piece] of rows) {
      const before = e.rows.get(id);
      if (before) e.bytes -= before.byteLength + PIECE_OVERHEAD_BYTES;
      e.rows.set(id, piece);
      e.bytes += piece.byteLength + PIECE_OVERHEAD_BYTES;
      this.bytes += piece.byteLength + PIECE_OVERHEAD_BYTES - (before ? before.byteLength + PIECE_OVERHEAD_BYTES : 0);
    }
    for (const [k, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      if (old !== e) this.drop(k, old);
    }
    return e;
  }

  /** Forgets the buckets starting before `beforeMs` (retention removed their rows). */
  forgetBefore(beforeMs: number): void {
    for (const [k, e] of this.entries) if (Number(k.slice(k.indexOf(':') + 1)) < beforeMs) this.drop(k, e);
  }

  get size(): number {
    return this.bytes;
  }

  private drop(key: string, e: BucketEntry): void {
    this.entries.delete(key);
    this.bytes -= e.bytes;
  }
}

export interface RollupReadContext {
  pool: Pool;
  schema: string;
  spanMs: number;
  /** Undefined: no cache. */
  cache: RollupCache | undefined;
  nowMs: number;
}

/**
 * The stored rollup rows of `ids` at one resolution, for the chunks starting in [fromMs, toMs)
 * (both on bucket boundaries): per series with any, its rows in chunk order, one piece each as
 * `splitRollupRows` cuts them (rollup.codec.ts, decodeRollupPieces).
 */
export async function readRollupRows(
  ctx: RollupReadContext,
  ids: readonly number[],
  resolutionMs: number,
  fromMs: number,
  toMs: number,
): Promise<Map<number, Uint8Array[]>> {
  const out = new Map<number, Uint8Array[]>();
  if (ids.length === 0 || fromMs >= toMs) return out;
  const { cache } = ctx;
  if (!cache) {
    const fetched = await rollupRepo.selectRollupRows(ctx.pool, ctx.schema, ids, resolutionMs, fromMs, toMs);
    fetched.seriesIds.forEach((id, i) =>
      out.set(
        id,
        splitRollupRows(fetched.data[i]!).map((p) => p.bytes),
      ),
    );
    return out;
  }
  // the numbers first: a write after this read gives its bucket a number the rows fetched below
  // may be newer than, never older
  const changes = await repo.chunkChanges(ctx.pool, ctx.schema, fromMs, toMs - ctx.spanMs);
  const buckets: number[] = [];
  for (let b = fromMs; b < toMs; b += ctx.spanMs) buckets.push(b);
  const stamps = buckets.map((b) => changes.get(b) ?? '');
  // per bucket, where its rows come from: a cached entry still valid, or this read's fetch
  const sources: Array<ReadonlyMap<number, Uint8Array> | undefined> = buckets.map(() => undefined);
  const wanted = new Set<number>();
  const idsKey = ids.join(',');
  let lo = -1;
  let hi = -1;
  buckets.forEach((b, k) => {
    const e = cache.get(resolutionMs, b);
    const valid =
      e !== undefined && stamps[k] !== '' && e.stamp === stamps[k] && ctx.nowMs - e.fetchedAtMs < ROLLUP_REVALIDATE_MS;
    const missing = !valid ? ids : e.holds.has(idsKey) ? [] : ids.filter((id) => !e.rows.has(id));
    cache.hits += ids.length - missing.length;
    if (valid) sources[k] = e.rows;
    if (valid && missing.length === 0) remember(e, idsKey);
    if (missing.length === 0) return;
    cache.misses += missing.length;
    for (const id of missing) wanted.add(id);
    if (lo < 0) lo = k;
    hi = k;
  });
  if (wanted.size > 0) {
    const fetchIds = [...wanted].sort((a, b) => a - b);
    const fetched = await rollupRepo.selectRollupRows(
      ctx.pool,
      ctx.schema,
      fetchIds,
      resolutionMs,
      buckets[lo]!,
      buckets[hi]! + ctx.spanMs,
    );
    const byBucket = new Map<number, Map<number, Uint8Array>>();
    for (let k = lo; k <= hi; k++) byBucket.set(buckets[k]!, new Map(fetchIds.map((id) => [id, EMPTY])));
    fetched.seriesIds.forEach((id, i) => {
      // a copy per series: the pieces kept would otherwise hold on to node-postgres' read buffer
      const own = new Uint8Array(fetched.data[i]!);
      for (const piece of splitRollupRows(own)) byBucket.get(piece.chunkStartMs)?.set(id, piece.bytes);
    });
    for (let k = lo; k <= hi; k++) {
      const rows = byBucket.get(buckets[k]!)!;
      if (stamps[k] === '') {
        // no change number to validate it by: this read's rows, not kept
        const merged = new Map(sources[k] ?? []);
        for (const [id, piece] of rows) merged.set(id, piece);
        sources[k] = merged;
      } else {
        const e = cache.put(resolutionMs, buckets[k]!, stamps[k]!, ctx.nowMs, rows);
        sources[k] = e.rows;
        if (ids.every((id) => e.rows.has(id))) remember(e, idsKey);
      }
    }
  }
  for (const id of ids) {
    const pieces: Uint8Array[] = [];
    for (const rows of sources) {
      const piece = rows?.get(id);
      if (piece && piece.byteLength > 0) pieces.push(piece);
    }
    if (pieces.length > 0) out.set(id, pieces);
  }
  return out;
}

function remember(e: BucketEntry, idsKey: string): void {
  if (e.holds.size >= HOLDS_KEPT) e.holds.clear();
  e.holds.add(idsKey);
}
