/**
 * The head side of reads: decoded head rows kept in memory by batch id. A head row never changes
 * once written (an INSERT per batch, idempotent by batch id) and leaves only when compaction
 * deletes it, so a cached row is valid for as long as PostgreSQL still lists it. A read asks for
 * the (batch id, time range) list of the head rows in its window, fetches the payloads of the
 * rows it has not seen, and reads the rest from memory. Without it every select fetched and decoded the whole head (minutes
 * of every target's samples, tens of MB) even to answer an instant query about one metric.
 */
import type { Pool } from 'pg';
import { decodeHeadPayload, type HeadPayload } from './head-payload.codec';
import { wordsOf, type SampleArrays } from './sample-merge';
import * as repo from './sample-store.repository';

interface CachedRow {
  payload: HeadPayload;
  bytes: number;
  /** The row's time range as the head lists it. */
  minTs: number;
  maxTs: number;
}

/** Per series: the parts of every listed head row in the window that hold its samples. */
export type HeadParts = Map<number, SampleArrays[]>;

export class HeadCache {
  private readonly rows = new Map<string, CachedRow>();
  private bytes = 0;
  /** Rows fetched from PostgreSQL and rows served from memory, since start. */
  fetched = 0;
  hits = 0;

  constructor(readonly maxBytes: number) {}

  get size(): number {
    return this.rows.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  /**
   * The head rows overlapping [startMs, endMs] as PostgreSQL lists them now, decoded; undefined
   * when a listed row was deleted before its payload was fetched (compaction moved it into a
   * chunk in between: the caller reads again).
   */
  async read(pool: Pool, schema: string, startMs: number, endMs: number): Promise<HeadPayload[] | undefined> {
    const listed = await repo.listHead(pool, schema, startMs, endMs);
    const wanted = listed.ids;
    const present = new Set(wanted);
    // Gone from the head for good (batch ids are never reused): a row of this window that is not
    // listed, and any row that ends before the oldest one still there.
    for (const [id, row] of this.rows)
      if (row.maxTs < listed.headFloorMs || (row.maxTs >= startMs && row.minTs <= endMs && !present.has(id))) {
        this.rows.delete(id);
        this.bytes -= row.bytes;
      }
    const missing = wanted.filter((id) => !this.rows.has(id));
    const out = new Map<string, HeadPayload>();
    if (missing.length > 0) {
      const got = await repo.headPayloadsById(pool, schema, missing);
      if (got.ids.length !== missing.length) return undefined;
      const index = new Map(wanted.map((id, i) => [id, i]));
      for (let i = 0; i < got.ids.length; i++) {
        const id = got.ids[i]!;
        const payload = decodeHeadPayload(got.payloads[i]!);
        out.set(id, payload);
        const at = index.get(id)!;
        this.remember(id, payload, listed.minTs[at]!, listed.maxTs[at]!);
      }
      this.fetched += got.ids.length;
    }
    this.hits += wanted.length - missing.length;
    return wanted.map((id) => out.get(id) ?? this.rows.get(id)!.payload);
  }

  private remember(id: string, payload: HeadPayload, minTs: number, maxTs: number): void {
    const bytes = payload.timestamps.byteLength * 2 + payload.seriesIds.length * 12 + 96;
    if (bytes > this.maxBytes) return;
    this.rows.set(id, { payload, bytes, minTs, maxTs });
    this.bytes += bytes;
    // Oldest first (insertion order): compaction takes the oldest rows first too.
    for (const [k, r] of this.rows) {
      if (this.bytes <= this.maxBytes) break;
      this.rows.delete(k);
      this.bytes -= r.bytes;
    }
  }
}

/**
 * The samples of the wanted series in these head rows, one array pair per series in row order
 * (not yet sorted or clipped). `wanted` is a bitmap indexed by series id: a row holds one
 * target's series, and a typed-array lookup per series of every row is cheaper than hashing each
 * id. Two passes (count, then copy into one allocation for all series) rather than a view per
 * series and row: at one sample per row, tens of thousands of views per read measured ~3× slower
 * and were most of the read's garbage.
 */
export function collectHeadParts(payloads: readonly HeadPayload[], wanted: Uint8Array): HeadParts {
  const counts = new Uint32Array(wanted.length);
  let total = 0;
  for (const p of payloads) {
    const ids = p.seriesIds;
    for (let i = 0; i < ids.length; i++) {
      const sid = ids[i]!;
      if (sid < wanted.length && wanted[sid] !== 0) {
        counts[sid] += p.counts[i]!;
        total += p.counts[i]!;
      }
    }
  }
  const out: HeadParts = new Map();
  if (total === 0) return out;
  const timestamps = new Float64Array(total);
  const words = new Uint32Array(2 * total);
  // next[sid]: where the series' next sample goes
  const next = new Uint32Array(wanted.length);
  let at = 0;
  for (let sid = 0; sid < counts.length; sid++) {
    const n = counts[sid]!;
    if (n === 0) continue;
    next[sid] = at;
    out.set(sid, [{ timestamps: timestamps.subarray(at, at + n), words: words.subarray(2 * at, 2 * (at + n)) }]);
    at += n;
  }
  for (const p of payloads) {
    const ids = p.seriesIds;
    let src: Uint32Array | undefined;
    for (let i = 0; i < ids.length; i++) {
      const sid = ids[i]!;
      if (sid >= wanted.length || wanted[sid] === 0) continue;
      src ??= wordsOf(p.values);
      const off = p.offsets[i]!;
      const n = p.counts[i]!;
      let k = next[sid]!;
      for (let j = 0; j < n; j++, k++) {
        timestamps[k] = p.timestamps[off + j]!;
        words[2 * k] = src[2 * (off + j)]!;
        words[2 * k + 1] = src[2 * (off + j) + 1]!;
      }
      next[sid] = k;
    }
  }
  return out;
}

/** A bitmap of series ids for collectHeadParts. */
export function seriesBitmap(ids: readonly number[]): Uint8Array {
  let max = 0;
  for (const id of ids) if (id > max) max = id;
  const bits = new Uint8Array(max + 1);
  for (const id of ids) bits[id] = 1;
  return bits;
}
