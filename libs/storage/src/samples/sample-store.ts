import {
  type LabelMatcher,
  type Labels,
  type MetricMetadata,
  type MetricsBatchExemplar,
  type MetricsBatchV1,
  type MetricsBatchV2,
  type Queryable,
  type RollupSeriesData,
  type SeriesData,
} from '@arcwatch/contracts';
import type { Pool } from 'pg';
import { StorageError, assertIdentifier } from '../errors';
import { DAY_MS, daysCovering, utcDayStart } from '../partitioning/partitioning';
import { ensurePartitions, ensurePartitionsCovering, type EnsurePartitionsResult } from '../partitioning/partitions';
import { isHypertable } from '../partitioning/partitioning.repository';
import { drizzleFor, withTransaction } from '../pool';
import {
  CatalogExtrasRepository,
  headPayloads,
  pruneSeries,
  seriesInWindow,
  widenSeriesRanges,
  type ExemplarRow,
  type MetadataRow,
} from './catalog-extras.repository';
import {
  ChunkStates,
  appendKnown,
  bucketStart,
  decodeChunkSamples,
  HeadGrouper,
  mergeChunk,
  type AppendedChunk,
  type ChunkWriteOf,
  type EncodedChunk,
  type PendingChunk,
} from './chunk-compaction';
import { EventLoopSlices } from './event-loop-slices';
import { ChunkCache, readChunks } from './chunk-read';
import { HeadCache, collectHeadParts, seriesBitmap, type HeadParts } from './head-cache';
import { decodeHeadPayload } from './head-payload.codec';
import { historyChunks, type HistorySeries } from './history-import';
import { canonicalLabelKey } from './label-matching';
import { appendPackedBatches, PackedSeriesCache } from './packed-append';
import { ScrapeCache, headRow, type ResolvedBatch } from './scrape-cache';
import { clip, concat, mergeSorted, sortUnique, valuesView, wordsOf, type SampleArrays } from './sample-merge';
import * as repo from './sample-store.repository';
import {
  RollupColumns,
  SLAB_VALUES_PER_PARTIAL,
  appendPartials,
  countRollupPartials,
  decodeRollupPieces,
  encodeRollup,
} from './rollup.codec';
import { RollupCache, readRollupRows } from './rollup-read';
import * as rollupRepo from './rollup.repository';
import { SeriesCatalog, labelsHash, normalizeLabels } from './series-catalog';

export interface SampleStoreOptions {
  schema: string;
  clock?: () => number;
  /** Cardinality guard: a batch that would grow the catalog beyond this is rejected whole. */
  maxSeries?: number;
  /** Width of the aligned time bucket one chunk row covers (default 2 h: 480 samples at 15 s). */
  chunkSpanMs?: number;
  /** Head rows folded per compaction transaction (default 5,000). */
  compactRowsPerTx?: number;
  /** Bytes of decoded chunks of finished buckets kept for reads (default 256 MiB; 0: none). See chunk-read.ts. */
  chunkCacheBytes?: number;
  /** Bytes of decoded head rows kept for reads (default 256 MiB; 0: none). See head-cache.ts. */
  headCacheBytes?: number;
  /** Bytes of rollup rows kept for range queries (default 64 MiB; 0: none). See rollup-read.ts. */
  rollupCacheBytes?: number;
  /**
   * Resolutions of the rollups written with every chunk and offered to range queries (default
   * 1 h; each must divide a day). Every process writing to the store must use the same list.
   */
  rollupResolutionsMs?: readonly number[];
}

export interface AppendResult {
  inserted: boolean;
  samples: number;
  newSeries: number;
}

export interface AppendManyResult {
  inserted: number;
  duplicates: number;
  samples: number;
  newSeries: number;
}

export interface CompactResult {
  series: number;
  samples: number;
  /** Samples left out because their chunk lies wholly before `dropBeforeMs` (past retention). */
  dropped?: number;
}

export interface ImportResult {
  series: number;
  newSeries: number;
  samples: number;
  chunks: number;
}

/** Exemplars of one series, as /api/v1/query_exemplars groups them. */
export interface SeriesExemplars {
  labels: Labels;
  exemplars: Array<{ labels: Labels; value: number; timestampMs: number }>;
}

export interface RetentionResult {
  droppedPartitions: string[];
  forgottenBatches: number;
  /** Catalog entries removed: their last sample is gone with retention. */
  prunedSeries: number;
  deletedExemplars: number;
}

export interface RetentionOptions {
  retentionDays: number;
  /** Batch ids are remembered this long for idempotency (default 1 day). */
  dedupWindowMs?: number;
}

/** Head rows (batches) folded per compaction transaction: every chunk a transaction touches is
 * decoded and re-encoded once, so a backlog costs fewer rewrites in bigger transactions. */
const COMPACT_ROWS_PER_TX = 5000;
/** The longest stretch of compaction's own CPU work between two turns of the event loop. */
const COMPACT_SLICE_MS = 10;
/** Chunk rows written per bulk-import transaction (~1 MB of encoded data at the fleet's mix). */
const IMPORT_CHUNKS_PER_TX = 4000;
/** Default size of the decoded-chunk cache: the 6 h fleet queries of the benchmark take ~100 MB. */
const CHUNK_CACHE_BYTES = 256 * 1024 * 1024;
/** Default size of the rollup cache: a week of the fleet's hourly partials for 1,000 series is ~12 MB. */
const ROLLUP_CACHE_BYTES = 64 * 1024 * 1024;
/** Default size of the decoded-head cache: 5 min of the 1,000-GPU fleet's head is ~60 MB decoded. */
const HEAD_CACHE_BYTES = 256 * 1024 * 1024;
/**
 * Chunk partitions keep rows inline up to nearly a page: a 2 h chunk of a 15 s series is 0.1–2.5 KB,
 * and past PostgreSQL's default 2 KB target the larger ones went to TOAST (a pointer, a TOAST row
 * and its index entry each). Measured on 10 nodes, 6 h at 15 s: the chunk table 9.4 → 8.1 MiB.
 */
const CHUNK_PARTITION_PARAMETERS = { toast_tuple_target: 8160 } as const;
/** Default rollup resolutions: one hour (see docs/decisions/0009-rollups.md). */
const ROLLUP_RESOLUTIONS_MS: readonly number[] = [3_600_000];
/** Chunks given their missing rollups per backfill transaction. */
const ROLLUP_BACKFILL_PER_TX = 2000;
/** How long a resolution found incomplete (backfill pending) is not asked about again. */
const ROLLUP_LEVEL_RECHECK_MS = 30_000;
/** Head reads that meet a compaction between listing and fetching; then the uncached read. */
const HEAD_READ_ATTEMPTS = 3;
/** A catalog gap younger than this may be a series still being committed by another writer. */
const GAP_TTL_MS = 60_000;
/** A metadata declaration already written is written again (moving last_seen forward) after this. */
const METADATA_REFRESH_MS = 3_600_000;

/**
 * The metric sample store: a series catalog cached in memory, a head table with one row per
 * ingested batch (one INSERT per batch, idempotent by batch id), and Gorilla-encoded chunk rows
 * per series and time bucket that `compact()` folds the head into. Reads merge both.
 */
export class SampleStore implements Queryable {
  readonly schema: string;
  private readonly clock: () => number;
  private readonly maxSeries: number;
  readonly chunkSpanMs: number;
  private readonly compactRowsPerTx: number;
  private readonly chunkCache: ChunkCache | undefined;
  private readonly rollupCache: RollupCache | undefined;
  private readonly headCache: HeadCache | undefined;
  private readonly catalog = new SeriesCatalog();
  private readonly gaps = new Map<number, number>();
  /** The highest series id refreshCatalog has read from PostgreSQL. */
  private catalogReadUpTo = 0;
  private readonly partitionDays = new Set<number>();
  /** The chunks this process compacted last, to append to them without decoding (chunk-compaction.ts). */
  private readonly chunkStates = new ChunkStates();
  private readonly scrapeCache = new ScrapeCache();
  private readonly packedCache = new PackedSeriesCache();
  private readonly extras: CatalogExtrasRepository;
  /** Declarations written recently (key → when): targets repeat theirs at every scrape. */
  private readonly metadataWritten = new Map<string, number>();
  readonly rollupLevelsMs: readonly number[];
  /** Resolutions whose rollups are complete (read from rollup_levels; once complete, stays so). */
  private readonly rollupsComplete = new Set<number>();
  private rollupsCheckedAt = -Infinity;

  constructor(
    private readonly pool: Pool,
    opts: SampleStoreOptions,
  ) {
    this.schema = assertIdentifier(opts.schema);
    this.clock = opts.clock ?? Date.now;
    this.maxSeries = opts.maxSeries ?? 1_000_000;
    this.chunkSpanMs = opts.chunkSpanMs ?? 2 * 3_600_000;
    this.compactRowsPerTx = opts.compactRowsPerTx ?? COMPACT_ROWS_PER_TX;
    const cacheBytes = opts.chunkCacheBytes ?? CHUNK_CACHE_BYTES;
    this.chunkCache = cacheBytes > 0 ? new ChunkCache(cacheBytes) : undefined;
    const headBytes = opts.headCacheBytes ?? HEAD_CACHE_BYTES;
    this.headCache = headBytes > 0 ? new HeadCache(headBytes) : undefined;
    const rollupBytes = opts.rollupCacheBytes ?? ROLLUP_CACHE_BYTES;
    this.rollupCache = rollupBytes > 0 ? new RollupCache(rollupBytes) : undefined;
    this.extras = new CatalogExtrasRepository(drizzleFor(pool), this.schema);
    if (DAY_MS % this.chunkSpanMs !== 0) throw new StorageError('INVALID_BATCH', 'chunkSpanMs must divide a day');
    this.rollupLevelsMs = [...new Set(opts.rollupResolutionsMs ?? ROLLUP_RESOLUTIONS_MS)].sort((a, b) => a - b);
    for (const r of this.rollupLevelsMs)
      if (!(Number.isInteger(r) && r > 0 && DAY_MS % r === 0))
        throw new StorageError('INVALID_BATCH', `rollup resolution ${r} ms does not divide a day`);
  }

  async appendBatch(batch: MetricsBatchV1): Promise<AppendResult> {
    const r = await this.appendBatches([batch]);
    return { inserted: r.inserted === 1, samples: r.inserted === 1 ? r.samples : 0, newSeries: r.newSeries };
  }

  /** Several batches in one statement (one transaction). Duplicates, in the call or stored, are skipped. */
  async appendBatches(batches: readonly MetricsBatchV1[]): Promise<AppendManyResult> {
    const unique = new Map<string, MetricsBatchV1>();
    for (const b of batches) if (!unique.has(b.batchId)) unique.set(b.batchId, b);
    const resolved = [...unique.values()].map((b) => this.scrapeCache.resolve(b, this.catalog));
    const newSeries = await this.ensureSeries(resolved);
    await this.writeExtras(resolved.map((r) => ({ batch: r.batch, ids: r.ids })));
    const rows: repo.HeadRowInput[] = [];
    const samplesOf = new Map<string, number>();
    for (const r of resolved) {
      this.scrapeCache.remember(r);
      const row = headRow(r);
      rows.push(row);
      samplesOf.set(r.batch.batchId, row.samples);
    }
    const inserted = rows.length ? await repo.insertBatches(this.pool, this.schema, rows) : [];
    let samples = 0;
    for (const id of inserted) samples += samplesOf.get(id)!;
    return { inserted: inserted.length, duplicates: batches.length - inserted.length, samples, newSeries };
  }

  /** Packed (v2) batches in one statement, idempotent by batch id as appendBatches (packed-append.ts). */
  appendPacked(batches: readonly MetricsBatchV2[]): Promise<AppendManyResult> {
    const ctx = {
      pool: this.pool,
      schema: this.schema,
      catalog: this.catalog,
      cache: this.packedCache,
      createSeries: (m: Map<string, Labels>) => this.createSeries(m),
      beforeInsert: (list: ReadonlyArray<{ batch: MetricsBatchV2; ids: Uint32Array }>) => this.writeExtras(list),
    };
    return appendPackedBatches(ctx, batches);
  }

  /**
   * Metadata and exemplars of batches whose series have ids, written before their head rows: both
   * writes are idempotent, so a crash between them and the head row leaves the redelivery to
   * complete the batch, and a duplicate batch writes nothing new.
   */
  private async writeExtras(
    list: ReadonlyArray<{
      batch: { scrapedAtMs: number; metadata?: MetricMetadata[]; exemplars?: MetricsBatchExemplar[] };
      ids: ArrayLike<number>;
    }>,
  ): Promise<void> {
    const now = this.clock();
    const metadata = new Map<string, MetadataRow>();
    const exemplars = new Map<string, ExemplarRow>();
    for (const { batch, ids } of list) {
      for (const m of batch.metadata ?? []) {
        const row = {
          metric: m.metric,
          type: m.type,
          help: m.help ?? '',
          unit: m.unit ?? '',
          lastSeenMs: batch.scrapedAtMs,
        };
        const key = `${row.metric}\u0000${row.type}\u0000${row.help}\u0000${row.unit}`;
        const written = this.metadataWritten.get(key);
        if (written !== undefined && now - written < METADATA_REFRESH_MS) continue;
        const prev = metadata.get(key);
        if (!prev || prev.lastSeenMs < row.lastSeenMs) metadata.set(key, row);
      }
      for (const e of batch.exemplars ?? []) {
        const seriesId = ids[e.series];
        if (seriesId === undefined || seriesId === 0) continue;
        exemplars.set(`${seriesId}:${e.timestampMs}`, {
          seriesId,
          ts: e.timestampMs,
          value: e.value,
          labels: e.labels,
        });
      }
    }
    await this.extras.upsertMetadata([...metadata.values()]);
    await this.extras.insertExemplars([...exemplars.values()]);
    if (this.metadataWritten.size > 100_000) this.metadataWritten.clear();
    for (const key of metadata.keys()) this.metadataWritten.set(key, now);
  }

  /** Gives every series of the batches a catalog id, creating what is new; returns how many were. */
  private async ensureSeries(resolved: readonly ResolvedBatch[]): Promise<number> {
    const missing = new Map<string, Labels>();
    for (const r of resolved) {
      r.keys.forEach((key, i) => {
        if (key !== undefined && r.ids[i] === 0 && !missing.has(key))
          missing.set(key, normalizeLabels(r.batch.series[i]!.labels));
      });
    }
    const created = missing.size > 0 ? await this.createSeries(missing) : 0;
    for (const r of resolved)
      r.keys.forEach((key, i) => key !== undefined && r.ids[i] === 0 && (r.ids[i] = this.catalog.idFor(key)!));
    return created;
  }

  /** Inserts the missing series (others may have created some first); returns how many it created. */
  private async createSeries(missing: Map<string, Labels>): Promise<number> {
    if (this.catalog.size + missing.size > this.maxSeries) {
      await this.refreshCatalog();
      const stillMissing = [...missing.keys()].filter((k) => this.catalog.idFor(k) === undefined).length;
      if (this.catalog.size + stillMissing > this.maxSeries) {
        throw new StorageError(
          'SERIES_LIMIT_EXCEEDED',
          `${stillMissing} new series would exceed the limit of ${this.maxSeries}`,
        );
      }
    }
    const rows = [...missing.entries()].map(([key, labels]) => {
      const { __name__: metric, ...rest } = labels;
      return { key, labels, row: { metric: metric!, labelsJson: JSON.stringify(rest), hash: labelsHash(key) } };
    });
    const byHash = new Map(rows.map((r) => [r.row.hash.toString('hex'), r]));
    const ids = await repo.upsertSeries(
      this.pool,
      this.schema,
      rows.map((r) => r.row),
    );
    let created = 0;
    for (const r of ids) {
      const entry = byHash.get(r.hash.toString('hex'))!;
      this.catalog.add(r.id, entry.labels, entry.key);
      if (r.created) created++;
    }
    return created;
  }

  /** Loads catalog rows written by other processes since the last look. */
  private async refreshCatalog(): Promise<void> {
    const now = this.clock();
    for (const [id, since] of this.gaps) if (now - since > GAP_TTL_MS || this.catalog.has(id)) this.gaps.delete(id);
    // From what was last read, not from the highest id known: the ids this process created itself
    // may sit above ids another writer took meanwhile, and those must still be read.
    const before = this.catalogReadUpTo;
    const rows = await repo.loadSeries(this.pool, this.schema, before, [...this.gaps.keys()]);
    let top = before;
    for (const r of rows) {
      this.catalog.add(r.id, { __name__: r.metric, ...r.labels });
      if (r.id > top) top = r.id;
    }
    // ids skipped by the sequence may belong to transactions that have not committed yet
    for (let id = before + 1; id < top; id++) if (!this.catalog.has(id) && !this.gaps.has(id)) this.gaps.set(id, now);
    this.catalogReadUpTo = top;
  }

  /**
   * Folds head rows that ended more than `olderThanMs` ago into chunks, in transactions of up to
   * `compactRowsPerTx` batches. Safe to run from several processes: one compacts, the others
   * return at once. Replayed samples (same series and timestamp) are dropped, never duplicated.
   */
  async compact(olderThanMs = 5 * 60_000, opts: { dropBeforeMs?: number } = {}): Promise<CompactResult> {
    const cutoff = this.clock() - olderThanMs;
    const span = await repo.headSpan(this.pool, this.schema, cutoff);
    if (!span) return { series: 0, samples: 0 };
    // Samples older than retention are not folded (retention would drop them next): their days
    // get no partitions, so a pushed timestamp from 1970 cannot make thousands of them.
    const keepFrom = opts.dropBeforeMs === undefined ? -Infinity : bucketStart(opts.dropBeforeMs, this.chunkSpanMs);
    if (span.max >= keepFrom)
      await this.ensureChunkPartitions(bucketStart(Math.max(span.min, keepFrom), this.chunkSpanMs), span.max);
    const series = new Set<number>();
    let samples = 0;
    let dropped = 0;
    let newestBucket = -Infinity;
    for (;;) {
      const tx = await retryDeadlock(() =>
        withTransaction(this.pool, async (client) => {
          if (!(await repo.tryCompactionLock(client, this.schema))) return { done: true, pending: [] };
          const payloads = await repo.takeHeadRows(client, this.schema, cutoff, this.compactRowsPerTx);
          if (payloads.length === 0) return { done: true, pending: [] };
          // The work below is seconds of CPU for a 1 s fleet: in slices, so that the queries,
          // pushes and acknowledgements this process serves wait milliseconds, not seconds.
          const slices = new EventLoopSlices(COMPACT_SLICE_MS);
          const grouper = new HeadGrouper(this.chunkSpanMs);
          for (const raw of payloads) {
            grouper.add(raw);
            if (slices.due()) await slices.pause();
          }
          const pending: PendingChunk[] = [];
          for (const p of grouper.chunks()) {
            if (p.startMs >= keepFrom) pending.push(p);
            else dropped += p.samples.timestamps.length;
            if (slices.due()) await slices.pause();
          }
          // A chunk whose state this store kept (it wrote the row as it stands) is appended to
          // in PostgreSQL from the new samples' bytes alone; only the others are read and merged.
          const sizes = await repo.chunkSizesAt(
            client,
            this.schema,
            pending.map((p) => p.seriesId),
            pending.map((p) => p.startMs),
          );
          const sizeOf = new Map(sizes.map((c) => [`${c.series_id}:${c.start_ms}`, c]));
          const appended: AppendedChunk[] = [];
          const whole: EncodedChunk[] = [];
          const unknown: PendingChunk[] = [];
          for (const p of pending) {
            const size = sizeOf.get(`${p.seriesId}:${p.startMs}`);
            const known = size && this.chunkStates.get(p.seriesId, p.startMs, size);
            const a = known && appendKnown(p, known, this.rollupLevelsMs);
            if (a) appended.push(a);
            else if (size) unknown.push(p);
            else whole.push(mergeChunk(p, undefined, this.rollupLevelsMs)); // a new chunk
            if (slices.due()) await slices.pause();
          }
          const stored =
            unknown.length === 0
              ? []
              : await repo.chunksAt(
                  client,
                  this.schema,
                  unknown.map((p) => p.seriesId),
                  unknown.map((p) => p.startMs),
                );
          const byKey = new Map(stored.map((c) => [`${c.series_id}:${c.start_ms}`, c]));
          for (const p of unknown) {
            whole.push(mergeChunk(p, byKey.get(`${p.seriesId}:${p.startMs}`), this.rollupLevelsMs));
            if (slices.due()) await slices.pause();
          }
          await repo.writeChunks(
            client,
            this.schema,
            whole,
            appended.map((a) => ({ ...a, ...a.append })),
          );
          const writes: ChunkWriteOf[] = [...whole, ...appended];
          await rollupRepo.upsertRollups(client, this.schema, this.rollupsOf(writes));
          await widenSeriesRanges(client, this.schema, rangesOf(pending));
          return { done: payloads.length < this.compactRowsPerTx, pending, writes };
        }),
      ).catch((err: unknown) => {
        // A chunk changed under a kept state: forget them all, the next pass reads every chunk.
        if (err instanceof StorageError && err.code === 'CHUNK_CHANGED') this.chunkStates.clear();
        throw err;
      });
      // committed: the next pass may append to these chunks without decoding them
      for (const w of tx.writes ?? []) {
        this.chunkStates.set(w);
        newestBucket = Math.max(newestBucket, w.startMs);
      }
      for (const p of tx.pending) {
        series.add(p.seriesId);
        samples += p.samples.timestamps.length;
      }
      if (tx.done) break;
    }
    // only the buckets compaction still appends to are worth keeping
    if (newestBucket > -Infinity) this.chunkStates.forgetBefore(newestBucket - this.chunkSpanMs);
    return { series: series.size, samples, ...(dropped > 0 ? { dropped } : {}) };
  }

  /**
   * Bulk history (backfills, benchmarks): encodes the samples straight into chunk rows, skipping
   * the head. A chunk already stored for a (series, bucket) is merged, stored samples winning on
   * equal timestamps as in compaction, under the compactor's lock.
   */
  async importHistory(input: readonly HistorySeries[]): Promise<ImportResult> {
    const keyed = input.map((s) => {
      const labels = normalizeLabels(s.labels);
      if (!labels.__name__) throw new StorageError('INVALID_BATCH', 'a series without __name__');
      return { labels, key: canonicalLabelKey(labels) };
    });
    const missing = new Map<string, Labels>();
    for (const k of keyed)
      if (this.catalog.idFor(k.key) === undefined && !missing.has(k.key)) missing.set(k.key, k.labels);
    const newSeries = missing.size > 0 ? await this.createSeries(missing) : 0;
    const pending = input.flatMap((s, i) =>
      historyChunks(this.catalog.idFor(keyed[i]!.key)!, s.timestamps, s.values, this.chunkSpanMs),
    );
    if (pending.length === 0) return { series: 0, newSeries, samples: 0, chunks: 0 };
    let min = Infinity;
    let max = -Infinity;
    for (const p of pending) {
      min = Math.min(min, p.startMs);
      max = Math.max(max, p.samples.timestamps[p.samples.timestamps.length - 1]!);
    }
    await this.ensureChunkPartitions(min, max);
    let samples = 0;
    for (let i = 0; i < pending.length; i += IMPORT_CHUNKS_PER_TX) {
      const slice = pending.slice(i, i + IMPORT_CHUNKS_PER_TX);
      await retryDeadlock(() =>
        withTransaction(this.pool, async (client) => {
          await repo.waitCompactionLock(client, this.schema);
          const stored = await repo.chunksAt(
            client,
            this.schema,
            slice.map((p) => p.seriesId),
            slice.map((p) => p.startMs),
          );
          const byKey = new Map(stored.map((c) => [`${c.series_id}:${c.start_ms}`, c]));
          const writes = slice.map((p) => mergeChunk(p, byKey.get(`${p.seriesId}:${p.startMs}`), this.rollupLevelsMs));
          await repo.upsertChunks(client, this.schema, writes);
          await rollupRepo.upsertRollups(client, this.schema, this.rollupsOf(writes));
          await widenSeriesRanges(client, this.schema, rangesOf(slice));
        }),
      );
      for (const p of slice) samples += p.samples.timestamps.length;
    }
    return { series: new Set(pending.map((p) => p.seriesId)).size, newSeries, samples, chunks: pending.length };
  }

  /** The rollup rows of chunks being written, one per configured resolution. */
  private rollupsOf(writes: readonly ChunkWriteOf[]): rollupRepo.RollupWrite[] {
    const out: rollupRepo.RollupWrite[] = [];
    for (const w of writes)
      for (const res of this.rollupLevelsMs)
        out.push({ seriesId: w.seriesId, resolutionMs: res, startMs: w.startMs, data: w.rollups.get(res)! });
    return out;
  }

  /**
   * Gives chunks stored before rollups existed (or before a resolution was configured) their
   * rollups, a transaction of chunks at a time under the compactor's lock; once none is left the
   * resolution is complete and range queries start reading it. Returns the chunks it built.
   */
  async buildRollups(): Promise<number> {
    let built = 0;
    for (const res of this.rollupLevelsMs) {
      if (await rollupRepo.rollupLevelComplete(this.pool, this.schema, res)) continue;
      for (;;) {
        const n = await withTransaction(this.pool, async (client) => {
          await repo.waitCompactionLock(client, this.schema);
          const rows = await rollupRepo.chunksWithoutRollup(client, this.schema, res, ROLLUP_BACKFILL_PER_TX);
          await rollupRepo.upsertRollups(
            client,
            this.schema,
            rows.map((r) => {
              const startMs = Number(r.start_ms);
              const s = decodeChunkSamples(r.data, r.count);
              return {
                seriesId: r.series_id,
                resolutionMs: res,
                startMs,
                data: encodeRollup(startMs, s.timestamps, s.words, res),
              };
            }),
          );
          // readers keep rollup rows by bucket at its change number (rollup-read.ts)
          await repo.stampChunkChanges(
            client,
            this.schema,
            rows.map((r) => Number(r.start_ms)),
          );
          if (rows.length === 0) await rollupRepo.markRollupLevelComplete(client, this.schema, res);
          return rows.length;
        });
        built += n;
        if (n === 0) break;
      }
    }
    this.rollupsCheckedAt = -Infinity;
    return built;
  }

  /**
   * The configured rollup resolutions whose rollups are complete. A read only: a resolution is
   * registered, and completed, by buildRollups, which the writer's maintenance runs.
   */
  async rollupResolutionsMs(): Promise<readonly number[]> {
    const now = this.clock();
    if (
      this.rollupsComplete.size < this.rollupLevelsMs.length &&
      now - this.rollupsCheckedAt >= ROLLUP_LEVEL_RECHECK_MS
    ) {
      this.rollupsCheckedAt = now;
      for (const res of this.rollupLevelsMs)
        if (!this.rollupsComplete.has(res) && (await rollupRepo.rollupLevelIsComplete(this.pool, this.schema, res)))
          this.rollupsComplete.add(res);
    }
    return this.rollupLevelsMs.filter((r) => this.rollupsComplete.has(r));
  }

  /**
   * Rollup partials of the matching series with a bucket end in (startMs, endMs]. Chunks from
   * the one holding the head's earliest sample on are summarised from the raw samples (chunks
   * and head merged, as `select` reads them), the ones before from their stored rollup rows.
   */
  async selectRollups(
    matchers: LabelMatcher[],
    startMs: number,
    endMs: number,
    resolutionMs: number,
  ): Promise<RollupSeriesData[]> {
    if (!this.rollupLevelsMs.includes(resolutionMs))
      throw new StorageError('INVALID_BATCH', `no rollups at a resolution of ${resolutionMs} ms`);
    await this.refreshCatalog();
    const ids = this.catalog.resolve(matchers);
    if (ids.length === 0) return [];
    // samples of the bucket ending at endMs lie in (startMs - res, endMs]: in chunks from
    // bucketStart(startMs - res + 1) up to the one holding endMs
    const firstChunk = bucketStart(startMs - resolutionMs + 1, this.chunkSpanMs);
    const lastChunk = bucketStart(endMs, this.chunkSpanMs);
    const headMin = await rollupRepo.headMinTs(this.pool, this.schema);
    const rawFrom = Math.max(firstChunk, headMin === undefined ? Infinity : bucketStart(headMin, this.chunkSpanMs));
    const stored = await readRollupRows(
      { pool: this.pool, schema: this.schema, spanMs: this.chunkSpanMs, cache: this.rollupCache, nowMs: this.clock() },
      ids,
      resolutionMs,
      firstChunk,
      Math.min(rawFrom, lastChunk + this.chunkSpanMs),
    );
    const columns = new Map<number, RollupColumns>();
    const columnsOf = (id: number): RollupColumns => {
      let c = columns.get(id);
      if (!c) columns.set(id, (c = new RollupColumns()));
      return c;
    };
    // The stored partials' columns sized exactly, with room for the raw buckets after them, all
    // in one allocation: per series eleven arrays, twice over with a resize, were most of a warm
    // read's time.
    const rawRoom = rawFrom <= endMs ? Math.ceil((endMs - rawFrom) / resolutionMs) + 2 : 0;
    const sizes = new Map<number, number>();
    let slabValues = 0;
    for (const [id, pieces] of stored) {
      const size = countRollupPartials(pieces) + rawRoom;
      sizes.set(id, size);
      slabValues += size * SLAB_VALUES_PER_PARTIAL;
    }
    const slab = new Float64Array(slabValues);
    let at = 0;
    for (const [id, pieces] of stored) {
      const size = sizes.get(id)!;
      const c = new RollupColumns(size, slab, at);
      at += size * SLAB_VALUES_PER_PARTIAL;
      columns.set(id, c);
      decodeRollupPieces(c, pieces);
    }
    if (rawFrom <= endMs)
      for (const [id, raw] of await this.readSamples(ids, rawFrom, endMs))
        appendPartials(columnsOf(id), raw.timestamps, raw.words, resolutionMs);
    const out: RollupSeriesData[] = [];
    for (const id of ids) {
      const c = columns.get(id);
      if (!c) continue;
      const data = c.toSeriesData({ ...this.catalog.labelsOf(id)! }, startMs, endMs);
      if (data.ends.length > 0) out.push(data);
    }
    return out;
  }

  private async ensureChunkPartitions(fromMs: number, toMs: number): Promise<void> {
    const days = daysCovering(fromMs, toMs);
    if (days.every((d) => this.partitionDays.has(d))) return;
    await ensurePartitionsCovering(this.pool, `${this.schema}.chunks`, fromMs, toMs, CHUNK_PARTITION_PARAMETERS);
    for (const d of days) this.partitionDays.add(d);
  }

  /** Creates chunk partitions ahead (native PostgreSQL) and drops expired ones. */
  async ensurePartitions(opts: { daysAhead?: number; retentionDays?: number } = {}): Promise<EnsurePartitionsResult> {
    const now = this.clock();
    const res = await ensurePartitions(this.pool, `${this.schema}.chunks`, {
      ...opts,
      now,
      storageParameters: CHUNK_PARTITION_PARAMETERS,
    });
    this.partitionDays.clear();
    // Readers' cached chunks of the dropped days must see a change (no trigger fires on a drop).
    // A day of margin: forgetting the number of a bucket still stored only costs a recheck.
    if (res.dropped.length > 0 && opts.retentionDays !== undefined)
      await repo.forgetChunkChanges(this.pool, this.schema, now - opts.retentionDays * DAY_MS + DAY_MS);
    return res;
  }

  /**
   * Drops chunk partitions past retention, forgets batch ids past the dedup window, and prunes
   * the catalog: a series whose samples are all gone (no chunk row left, nothing in the head,
   * last sample before the cutoff) is removed, with its exemplars; exemplars and metadata older
   * than the cutoff go too. This process's caches forget the pruned ids; another process keeps
   * them until its own pass (each writer runs one), so a series that comes back within that
   * hour, on that process, is stored under its old id (see docs/storage.md).
   */
  async applyRetention(opts: RetentionOptions): Promise<RetentionResult> {
    const res = await this.ensurePartitions({ retentionDays: opts.retentionDays });
    const now = this.clock();
    const forgotten = await repo.deleteBatchLogBefore(this.pool, this.schema, now - (opts.dedupWindowMs ?? DAY_MS));
    const cutoff = now - opts.retentionDays * DAY_MS;
    const inHead = new Set<number>();
    for (const raw of await headPayloads(this.pool, this.schema))
      for (const id of decodeHeadPayload(raw).seriesIds) inHead.add(id);
    const pruned = await withTransaction(this.pool, async (client) => {
      // under the compactor's lock: a compaction in flight may be writing chunks of these series
      await repo.waitCompactionLock(client, this.schema);
      return pruneSeries(client, this.schema, cutoff, [...inHead]);
    });
    await this.refreshCatalog();
    for (const id of pruned) this.catalog.remove(id);
    if (pruned.length > 0) {
      this.scrapeCache.clear();
      this.packedCache.clear();
    }
    // the chunks of days before the cutoff's went with their partitions (or drop_chunks)
    await rollupRepo.deleteRollupsBefore(this.pool, this.schema, utcDayStart(cutoff));
    this.rollupCache?.forgetBefore(utcDayStart(cutoff));
    const deletedExemplars = await this.extras.deleteExemplarsBefore(cutoff);
    await this.extras.deleteMetadataBefore(cutoff);
    return {
      droppedPartitions: res.dropped,
      forgottenBatches: forgotten,
      prunedSeries: pruned.length,
      deletedExemplars,
    };
  }

  /** Exemplars of the series matching any matcher set, in [startMs, endMs]. */
  async exemplars(matchers: LabelMatcher[][], startMs: number, endMs: number): Promise<SeriesExemplars[]> {
    await this.refreshCatalog();
    const ids = this.catalog.resolveAny(matchers);
    const rows = await this.extras.exemplars(ids, startMs, endMs);
    const out = new Map<number, SeriesExemplars>();
    for (const r of rows) {
      const labels = this.catalog.labelsOf(r.seriesId);
      if (!labels) continue;
      let entry = out.get(r.seriesId);
      if (!entry) out.set(r.seriesId, (entry = { labels: { ...labels }, exemplars: [] }));
      entry.exemplars.push({ labels: r.labels, value: r.value, timestampMs: r.ts });
    }
    return [...out.values()];
  }

  /** Metadata targets declared (HELP, TYPE, UNIT), one row per distinct declaration. */
  metadata(metric?: string): Promise<MetadataRow[]> {
    return this.extras.metadata(metric);
  }

  async select(matchers: LabelMatcher[], startMs: number, endMs: number): Promise<SeriesData[]> {
    await this.refreshCatalog();
    const ids = this.catalog.resolve(matchers);
    if (ids.length === 0) return [];
    const out: SeriesData[] = [];
    for (const [id, inWindow] of await this.readSamples(ids, startMs, endMs)) {
      // views: of the chunk cache's runs (shared, never written to: chunk-read.ts) or of this
      // call's own arrays (the merge with the head, collectHeadParts)
      out.push({
        labels: { ...this.catalog.labelsOf(id)! },
        timestamps: inWindow.timestamps,
        values: valuesView(inWindow.words),
      });
    }
    return out;
  }

  /** The samples of `ids` in [startMs, endMs], chunks and head merged, for the series that have some. */
  private async readSamples(
    ids: readonly number[],
    startMs: number,
    endMs: number,
  ): Promise<Map<number, SampleArrays>> {
    const chunkRead = {
      pool: this.pool,
      schema: this.schema,
      spanMs: this.chunkSpanMs,
      cache: this.chunkCache,
      nowMs: this.clock(),
    };
    const [fromChunks, fromHead] = await Promise.all([
      readChunks(chunkRead, ids, startMs, endMs),
      this.headParts(ids, startMs, endMs),
    ]);
    const out = new Map<number, SampleArrays>();
    for (const id of ids) {
      const stored = fromChunks.get(id);
      const recent = fromHead.get(id);
      let all = stored ? { timestamps: stored.timestamps, words: wordsOf(stored.values) } : undefined;
      if (recent) {
        const sorted = sortUnique(concat(recent));
        all = all ? mergeSorted(all, sorted) : sorted;
      }
      if (!all) continue;
      const inWindow = clip(all, startMs, endMs);
      if (inWindow.timestamps.length > 0) out.set(id, inWindow);
    }
    return out;
  }

  /** The head's samples of `ids` in rows overlapping the window, per series (unsorted, unclipped). */
  private async headParts(ids: readonly number[], startMs: number, endMs: number): Promise<HeadParts> {
    const wanted = seriesBitmap(ids);
    if (this.headCache) {
      // A listed row deleted before its payload came is a compaction in between: list again.
      for (let attempt = 0; attempt < HEAD_READ_ATTEMPTS; attempt++) {
        const rows = await this.headCache.read(this.pool, this.schema, startMs, endMs);
        if (rows) return collectHeadParts(rows, wanted);
      }
    }
    const raw = await repo.selectHead(this.pool, this.schema, startMs, endMs);
    return collectHeadParts(raw.map(decodeHeadPayload), wanted);
  }

  /**
   * Series matching any of the matcher sets with a sample in [startMs, endMs]: the time range
   * compaction keeps per series in the catalog, or a head row (not yet compacted) in the window
   * that holds the series.
   */
  async series(matchers: LabelMatcher[][], startMs: number, endMs: number): Promise<Labels[]> {
    await this.refreshCatalog();
    const ids = this.catalog.resolveAny(matchers);
    if (ids.length === 0) return [];
    const [stored, head] = await Promise.all([
      seriesInWindow(this.pool, this.schema, ids, startMs, endMs),
      this.headParts(ids, startMs, endMs),
    ]);
    const inWindow = new Set(stored);
    for (const [id, parts] of head) {
      if (inWindow.has(id)) continue;
      // a row may span the window's edge: look at this series' own samples
      if (parts.some((p) => p.timestamps.some((t) => t >= startMs && t <= endMs))) inWindow.add(id);
    }
    return ids.filter((id) => inWindow.has(id)).map((id) => ({ ...this.catalog.labelsOf(id)! }));
  }

  async labelNames(matchers: LabelMatcher[][], startMs: number, endMs: number): Promise<string[]> {
    const names = new Set<string>();
    for (const l of await this.series(matchers, startMs, endMs)) for (const k of Object.keys(l)) names.add(k);
    return [...names].sort();
  }

  async labelValues(name: string, matchers: LabelMatcher[][], startMs: number, endMs: number): Promise<string[]> {
    const values = new Set<string>();
    for (const l of await this.series(matchers, startMs, endMs)) if (l[name] !== undefined) values.add(l[name]);
    return [...values].sort();
  }

  /** Series in the catalog, samples stored (chunks and head), bytes on disk of all the store's tables. */
  async stats(): Promise<{ series: number; samples: number; bytes: number }> {
    return repo.storeStats(this.pool, this.schema, await isHypertable(this.pool, this.schema, 'chunks'));
  }
}

/** Attempts at a compaction or import transaction that PostgreSQL ends as a deadlock victim. */
const DEADLOCK_ATTEMPTS = 3;

/**
 * Runs a chunk-writing transaction again when PostgreSQL chose it as a deadlock victim (it was
 * rolled back whole, so running it again is safe). On TimescaleDB the compression job takes an
 * exclusive lock on the day chunk it compresses; a late write into that day (a backfill, a
 * compaction of samples more than a day old) that already read the chunk can meet it that way.
 */
async function retryDeadlock<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (attempt >= DEADLOCK_ATTEMPTS || (err as { code?: unknown }).code !== '40P01') throw err;
    }
  }
}

/** First and last sample time per series of chunks about to be written. */
function rangesOf(
  pending: ReadonlyArray<{ seriesId: number; samples: { timestamps: Float64Array } }>,
): Map<number, { min: number; max: number }> {
  const out = new Map<number, { min: number; max: number }>();
  for (const p of pending) {
    const ts = p.samples.timestamps;
    if (ts.length === 0) continue;
    const min = ts[0]!;
    const max = ts[ts.length - 1]!;
    const r = out.get(p.seriesId);
    if (!r) out.set(p.seriesId, { min, max });
    else {
      r.min = Math.min(r.min, min);
      r.max = Math.max(r.max, max);
    }
  }
  return out;
}
