/**
 * The chunk side of `SampleStore.select`: fetches the chunks of the selected series (split over
 * two connections, so PostgreSQL scans both halves at once), decodes them into one pair of arrays
 * for the whole read, sized from the chunks' counts, and keeps what it decoded per series.
 *
 * The cache holds, per series, a run: its decoded chunks of consecutive buckets in one pair of
 * arrays, validated at the change numbers of those buckets (sample-store.repository.ts: every
 * chunk write gives its bucket a new number, in the writing transaction). A read asks PostgreSQL
 * for the numbers of its buckets (one small query) and hands out a view of every run still valid
 * — no copy, no row of `chunks` read. Only the series whose run does not cover the window, or
 * whose buckets changed, go the long way: row versions first, then the rows not cached at their
 * version; their new runs are built from the old run's chunks and the fetched ones.
 *
 * The arrays handed out are shared with the cache: readers must not write into them.
 */
import type { Pool } from 'pg';
import { decodeChunk } from './chunk.codec';
import * as repo from './sample-store.repository';

/** The stored samples of one series in a window: timestamps and values, decoded. */
export interface DecodedSeries {
  timestamps: Float64Array;
  values: Float64Array;
}

/** The change numbers a group of runs was validated at: buckets from `fromMs`, one per span. */
interface Validation {
  fromMs: number;
  /** Per bucket, its change number ('' for none) when the read that built the runs began. */
  stamps: string[];
  checkedAtMs: number;
}

/** One series' decoded chunks of the buckets its validation covers, in bucket order. */
export interface SeriesRun {
  validation: Validation;
  starts: number[];
  versions: string[];
  /** Chunk k's samples are [offsets[k], offsets[k + 1]) of the arrays. */
  offsets: number[];
  timestamps: Float64Array;
  values: Float64Array;
}

const RUN_OVERHEAD_BYTES = 256;
const runBytes = (r: SeriesRun): number => r.timestamps.byteLength * 2 + r.starts.length * 24 + RUN_OVERHEAD_BYTES;

/**
 * Decoded runs by series id, least recently used first, bounded by bytes. The runs one read
 * builds are views of that read's two arrays (two allocations a read rather than two per series),
 * so the memory of an evicted run returns once every run of its read is gone.
 */
export class ChunkCache {
  private readonly runs = new Map<number, SeriesRun>();
  private bytes = 0;
  /** Series served from a valid run, series read the long way, and chunk rows fetched and decoded, since start. */
  hits = 0;
  misses = 0;
  fetchedChunks = 0;

  constructor(readonly maxBytes: number) {}

  get size(): number {
    return this.runs.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  peek(id: number): SeriesRun | undefined {
    return this.runs.get(id);
  }

  /** Marks the run as the most recently used. */
  touch(id: number, run: SeriesRun): void {
    this.runs.delete(id);
    this.runs.set(id, run);
  }

  set(id: number, run: SeriesRun): void {
    const size = runBytes(run);
    const old = this.runs.get(id);
    if (old) {
      this.runs.delete(id);
      this.bytes -= runBytes(old);
    }
    if (size > this.maxBytes) return;
    this.runs.set(id, run);
    this.bytes += size;
    for (const [k, r] of this.runs) {
      if (this.bytes <= this.maxBytes) break;
      this.runs.delete(k);
      this.bytes -= runBytes(r);
    }
  }
}

export interface ChunkReadContext {
  pool: Pool;
  schema: string;
  spanMs: number;
  /** Undefined: no cache. */
  cache: ChunkCache | undefined;
  /** The reader's clock: runs validated CHUNK_REVALIDATE_MS ago or earlier are checked again. */
  nowMs: number;
}

/**
 * A run is checked against the row versions at least this often, whatever the change numbers
 * say: the numbers are written by this code's writers, and a writer from before migration 0005
 * (during a rolling deploy) or a hand-made UPDATE would leave them as they were.
 */
export const CHUNK_REVALIDATE_MS = 5 * 60_000;

/** Connections one read is split over. */
const PARALLEL_PARTS = 2;

function halves<T>(items: readonly T[]): T[][] {
  if (items.length < 2 * PARALLEL_PARTS) return [[...items]];
  const size = Math.ceil(items.length / PARALLEL_PARTS);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Concatenated columns of the parts, in part order (each part is ordered by series and start). */
async function inParts<T>(
  items: readonly T[],
  fetch: (part: T[]) => Promise<repo.ChunkColumns>,
): Promise<repo.ChunkColumns> {
  const parts = await Promise.all(halves(items).map(fetch));
  if (parts.length === 1) return parts[0]!;
  const out: repo.ChunkColumns = { seriesIds: [], startMs: [], counts: [], versions: [], data: [] };
  for (const p of parts) {
    out.seriesIds.push(...p.seriesIds);
    out.startMs.push(...p.startMs);
    out.counts.push(...p.counts);
    out.versions.push(...p.versions);
    out.data.push(...p.data);
  }
  return out;
}

function decodeInto(base64: string, count: number, timestamps: Float64Array, words: Uint32Array, at: number): void {
  // copied out of the Buffer: decoding straight from Buffer.from(…, 'base64') measured 3–5× slower
  decodeChunk(new Uint8Array(Buffer.from(base64, 'base64')), count, timestamps, words, at);
}

/** The run's chunks starting in [loMs, hiMs] as views; undefined when it has none there. */
function window(run: SeriesRun, loMs: number, hiMs: number): DecodedSeries | undefined {
  let a = 0;
  while (a < run.starts.length && run.starts[a]! < loMs) a++;
  let b = a;
  while (b < run.starts.length && run.starts[b]! <= hiMs) b++;
  if (a === b) return undefined;
  const from = run.offsets[a]!;
  const to = run.offsets[b]!;
  return { timestamps: run.timestamps.subarray(from, to), values: run.values.subarray(from, to) };
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
  // a chunk starts on a bucket boundary: those overlapping the window start in [loMs, hiMs]
  const loMs = Math.floor(startMs / ctx.spanMs) * ctx.spanMs;
  const hiMs = Math.floor(endMs / ctx.spanMs) * ctx.spanMs;
  if (!ctx.cache) return build(await fetchAll(ctx, ids, startMs, endMs), undefined).series;
  const cache = ctx.cache;
  const changes = await repo.chunkChanges(ctx.pool, ctx.schema, loMs, hiMs);
  const stamps: string[] = [];
  for (let b = loMs; b <= hiMs; b += ctx.spanMs) stamps.push(changes.get(b) ?? '');
  const out = new Map<number, DecodedSeries>();
  const stale: number[] = [];
  const validity = new Map<Validation, boolean>();
  for (const id of ids) {
    const run = cache.peek(id);
    let ok = run !== undefined && validity.get(run.validation);
    if (run && ok === undefined) {
      ok = stillValid(run.validation, ctx, loMs, stamps);
      validity.set(run.validation, ok);
    }
    if (!run || !ok) {
      stale.push(id);
      continue;
    }
    cache.touch(id, run);
    const w = window(run, loMs, hiMs);
    if (w) out.set(id, w);
  }
  cache.hits += ids.length - stale.length;
  cache.misses += stale.length;
  if (stale.length === 0) return out;
  // A run covers whole buckets: listed from loMs, so that a chunk of the first bucket that ends
  // before startMs is in it too (a later read of that bucket may start earlier).
  const validation: Validation = { fromMs: loMs, stamps, checkedAtMs: ctx.nowMs };
  const read = stale.some((id) => cache.peek(id))
    ? await readChanged(ctx, cache, stale, loMs, endMs, validation)
    : withEmptyRuns(build(await fetchAll(ctx, stale, loMs, endMs), validation), stale, validation);
  if (!read) return build(await fetchAll(ctx, ids, startMs, endMs), undefined).series;
  for (const [id, run] of read.runs) cache.set(id, run);
  cache.fetchedChunks += read.fetched;
  for (const [id, s] of read.series) out.set(id, s);
  return out;
}

/** True when the runs cover every bucket from loMs on at the numbers PostgreSQL gives them now. */
function stillValid(v: Validation, ctx: ChunkReadContext, loMs: number, stamps: readonly string[]): boolean {
  if (ctx.nowMs - v.checkedAtMs >= CHUNK_REVALIDATE_MS) return false;
  const first = (loMs - v.fromMs) / ctx.spanMs;
  if (first < 0 || first + stamps.length > v.stamps.length) return false;
  for (let k = 0; k < stamps.length; k++) if (v.stamps[first + k] !== stamps[k]) return false;
  return true;
}

function fetchAll(
  ctx: ChunkReadContext,
  ids: readonly number[],
  startMs: number,
  endMs: number,
): Promise<repo.ChunkColumns> {
  return inParts(ids, (part) => repo.selectChunks(ctx.pool, ctx.schema, part, startMs, endMs, ctx.spanMs));
}

interface Built {
  series: Map<number, DecodedSeries>;
  runs: Map<number, SeriesRun>;
  /** Chunks decoded from fetched data (the others were copied from cached runs). */
  fetched: number;
}

/** Where each listed chunk's samples come from: the data fetched with it, or a cached run. */
interface Source {
  run?: SeriesRun;
  chunk?: number;
}

/**
 * Decodes (or copies from cached runs) every listed chunk into one pair of arrays, series by
 * series in the listed order, and makes a run of each series when a validation is given.
 */
function build(listed: repo.ChunkColumns, validation: Validation | undefined, sources?: readonly Source[]): Built {
  let total = 0;
  let fetched = 0;
  for (const n of listed.counts) total += n;
  const timestamps = new Float64Array(total);
  const words = new Uint32Array(2 * total);
  const values = new Float64Array(words.buffer);
  const series = new Map<number, DecodedSeries>();
  const runs = new Map<number, SeriesRun>();
  let at = 0;
  for (let j = 0; j < listed.seriesIds.length;) {
    const id = listed.seriesIds[j]!;
    const from = at;
    const starts: number[] = [];
    const versions: string[] = [];
    const offsets: number[] = [];
    for (; j < listed.seriesIds.length && listed.seriesIds[j] === id; j++) {
      const n = listed.counts[j]!;
      const src = sources?.[j];
      if (src?.run) {
        const k = src.chunk!;
        const a = src.run.offsets[k]!;
        timestamps.set(src.run.timestamps.subarray(a, a + n), at);
        values.set(src.run.values.subarray(a, a + n), at);
      } else {
        decodeInto(listed.data[j]!, n, timestamps, words, at);
        fetched++;
      }
      starts.push(listed.startMs[j]!);
      versions.push(listed.versions[j]!);
      offsets.push(at - from);
      at += n;
    }
    offsets.push(at - from);
    const own = { timestamps: timestamps.subarray(from, at), values: values.subarray(from, at) };
    if (at > from) series.set(id, own);
    if (validation) runs.set(id, { validation, starts, versions, offsets, ...own });
  }
  return { series, runs, fetched };
}

/** Series with no chunk in the window get an empty run: it says so until their buckets change. */
function withEmptyRuns<T extends { runs: Map<number, SeriesRun> }>(
  read: T,
  ids: readonly number[],
  validation: Validation,
): T {
  for (const id of ids)
    if (!read.runs.has(id))
      read.runs.set(id, {
        validation,
        starts: [],
        versions: [],
        offsets: [0],
        timestamps: new Float64Array(0),
        values: new Float64Array(0),
      });
  return read;
}

/**
 * The long way for series that have a run: row versions of their chunks in the window, then the
 * rows not in their run at that version. Undefined if a row changed between the two queries.
 */
async function readChanged(
  ctx: ChunkReadContext,
  cache: ChunkCache,
  stale: readonly number[],
  startMs: number,
  endMs: number,
  validation: Validation,
): Promise<Built | undefined> {
  const listed = await inParts(stale, (part) =>
    repo.selectChunks(ctx.pool, ctx.schema, part, startMs, endMs, ctx.spanMs, false),
  );
  const sources: Source[] = [];
  const missing: number[] = [];
  for (let j = 0; j < listed.seriesIds.length; j++) {
    const run = cache.peek(listed.seriesIds[j]!);
    const k = run ? run.starts.indexOf(listed.startMs[j]!) : -1;
    if (run && k >= 0 && run.versions[k] === listed.versions[j]) sources.push({ run, chunk: k });
    else {
      sources.push({});
      missing.push(j);
    }
  }
  if (missing.length > 0) {
    const fetched = await inParts(missing, (part) =>
      repo.selectChunksAt(
        ctx.pool,
        ctx.schema,
        part.map((j) => listed.seriesIds[j]!),
        part.map((j) => listed.startMs[j]!),
      ),
    );
    const byKey = new Map<string, number>();
    for (let i = 0; i < fetched.seriesIds.length; i++) byKey.set(`${fetched.seriesIds[i]}:${fetched.startMs[i]}`, i);
    for (const j of missing) {
      const i = byKey.get(`${listed.seriesIds[j]}:${listed.startMs[j]}`);
      // rewritten since the version query: its count may differ, so read everything afresh
      if (i === undefined || fetched.versions[i] !== listed.versions[j]) return undefined;
      listed.data[j] = fetched.data[i]!;
    }
  }
  return withEmptyRuns(build(listed, validation, sources), stale, validation);
}
