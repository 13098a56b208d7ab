import {
  decodeFloat64Base64Into,
  formatSeriesText,
  PackedBatchError,
  packedSampleCount,
  packedSeriesLabels,
  packedSharedLabels,
  SeriesTextError,
  type Labels,
  type MetricsBatchV2,
} from '@arcwatch/contracts';
import type { Pool } from 'pg';
import { StorageError } from '../errors';
import { canonicalLabelKey } from './label-matching';
import * as repo from './sample-store.repository';
import type { AppendManyResult } from './sample-store';
import { normalizeLabels, type SeriesCatalog } from './series-catalog';

/**
 * The write path for packed batches (`io.arcwatch.metrics.batch.v2`). A batch's series texts
 * map to catalog ids through `PackedSeriesCache` (one Map lookup per series, no label objects);
 * only a text the cache has not seen is read into labels, keyed canonically and looked up in,
 * or added to, the catalog. The head row is the same layout `encodeBatchPayload` writes for a
 * v1 batch (head-payload.codec.ts), filled straight from the wire: values are base64-decoded
 * into the row's buffer, so no per-sample JS value exists and the bits are the producer's.
 */

/** Series texts remembered; past this the cache starts over (a steady fleet refills it in one scrape). */
const MAX_CACHED_TEXTS = 2_000_000;
const MAX_TARGETS = 50_000;

/**
 * Series (shared labels, text) → catalog id. Looking a fresh 100-character string up in a Map hashes all of it,
 * which the first ingest profile showed as the writer's largest single cost; but a target sends
 * the same series in the same order batch after batch (the reason for Prometheus's scrape
 * cache), so the text at position i is first compared with the one at position i last time —
 * a memcmp that usually succeeds — and the Map is the fallback.
 */
export class PackedSeriesCache {
  private readonly ids = new Map<string, number>();
  private readonly byTarget = new Map<
    string,
    { shared: string | undefined; texts: readonly string[]; ids: Uint32Array }
  >();

  get(text: string): number | undefined {
    return this.ids.get(text);
  }

  clear(): void {
    this.ids.clear();
    this.byTarget.clear();
  }

  set(text: string, id: number): void {
    if (this.ids.size >= MAX_CACHED_TEXTS) this.ids.clear();
    this.ids.set(text, id);
  }

  /** Fills `ids` for the texts found at the same position in the target's last batch; returns how many. */
  matchPrevious(target: string, shared: string | undefined, texts: readonly string[], ids: Uint32Array): number {
    const prev = this.byTarget.get(target);
    if (prev === undefined || prev.shared !== shared) {
      ids.fill(0);
      return 0;
    }
    const n = Math.min(texts.length, prev.texts.length);
    let found = 0;
    for (let i = 0; i < n; i++) {
      if (texts[i] === prev.texts[i]) {
        ids[i] = prev.ids[i]!;
        found++;
      } else ids[i] = 0;
    }
    for (let i = n; i < texts.length; i++) ids[i] = 0;
    return found;
  }

  remember(target: string, shared: string | undefined, texts: readonly string[], ids: Uint32Array): void {
    if (this.byTarget.size >= MAX_TARGETS) this.byTarget.clear();
    this.byTarget.set(target, { shared, texts, ids: ids.slice() });
  }
}

/** The Map key of a series: a series text never holds a raw newline (it is escaped), so this is unambiguous. */
function seriesKey(shared: string | undefined, text: string): string {
  return shared === undefined ? text : `${shared}\n${text}`;
}

function targetKey(b: MetricsBatchV2): string {
  return `${b.source}\u0000${b.target.job}\u0000${b.target.instance}`;
}

export interface PackedAppendContext {
  pool: Pool;
  schema: string;
  catalog: SeriesCatalog;
  cache: PackedSeriesCache;
  /** SampleStore's series creation (cardinality guard included); returns how many it created. */
  createSeries(missing: Map<string, Labels>): Promise<number>;
  /** Called once every series has its id, before the head rows are written (metadata, exemplars). */
  beforeInsert?(batches: ReadonlyArray<{ batch: MetricsBatchV2; ids: Uint32Array }>): Promise<void>;
}

interface PendingRow {
  row: repo.HeadRowInput;
  /** The row's series id words, filled once every text has an id. */
  ids: Uint32Array;
  texts: readonly string[];
  batch: MetricsBatchV2;
}

function invalid(b: MetricsBatchV2, what: string): never {
  throw new StorageError('INVALID_BATCH', `batch ${b.batchId}: ${what}`);
}

function headerWords(n: number): number {
  const words = 1 + 2 * n;
  return words + (words & 1);
}

/** The head row of one batch with its series ids still zero; throws INVALID_BATCH on a layout that does not add up. */
function layOut(b: MetricsBatchV2): PendingRow {
  const n = b.series.length;
  const counts = b.counts;
  if (counts !== undefined && counts.length !== n) invalid(b, `${counts.length} counts for ${n} series`);
  const total = packedSampleCount(b);
  const hw = headerWords(n);
  const tsOffset = hw * 4;
  const valuesOffset = tsOffset + total * 8;
  // Not from Buffer's shared pool: the Float64Array views below need an 8-aligned start.
  const buf = Buffer.allocUnsafeSlow(valuesOffset + total * 8);
  const header = new Uint32Array(buf.buffer, buf.byteOffset, hw);
  header[0] = n;
  header[hw - 1] = 0; // 1 + 2n words is odd: the last one pads the header to 8 bytes
  for (let i = 0; i < n; i++) {
    const c = counts === undefined ? 1 : counts[i]!;
    if (!Number.isInteger(c) || c < 1) invalid(b, `count ${c} for series ${i}`);
    header[1 + n + i] = c;
  }
  const ts = new Float64Array(buf.buffer, buf.byteOffset + tsOffset, total);
  let min = b.scrapedAtMs;
  let max = b.scrapedAtMs;
  if (b.timestamps !== undefined) {
    if (!decodeFloat64Base64Into(b.timestamps, total, buf, tsOffset))
      invalid(b, `timestamps are not ${total} float64 values`);
    if (total > 0) {
      min = Infinity;
      max = -Infinity;
    }
    for (let k = 0; k < total; k++) {
      const t = ts[k]!;
      if (!Number.isSafeInteger(t)) invalid(b, `timestamp ${t} is not an integer`);
      if (t < min) min = t;
      if (t > max) max = t;
    }
  } else {
    const t = b.timestampMs;
    if (t === undefined || !Number.isSafeInteger(t)) invalid(b, `timestamp ${String(t)} is not an integer`);
    ts.fill(t);
    if (total > 0) min = max = t;
  }
  if (!decodeFloat64Base64Into(b.values, total, buf, valuesOffset))
    invalid(b, `values are not ${total} float64 values`);
  return {
    row: { batchId: b.batchId, minTs: min, maxTs: max, samples: total, payload: buf },
    ids: header.subarray(1, 1 + n),
    texts: b.series,
    batch: b,
  };
}

function readable<T>(b: MetricsBatchV2, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof SeriesTextError || err instanceof PackedBatchError) invalid(b, err.message);
    throw err;
  }
}

/** Labels of a series the cache does not know, normalised as the catalog keeps them. */
function labelsOfText(b: MetricsBatchV2, shared: Labels | undefined, text: string): Labels {
  const labels = readable(b, () => normalizeLabels(packedSeriesLabels(shared, text)));
  if (!labels.__name__) invalid(b, `series ${JSON.stringify(formatSeriesText(labels))} has no __name__`);
  return labels;
}

/**
 * Several packed batches in one statement (one transaction), idempotent by batch id exactly as
 * `appendBatches`: a batch id already in batch_log (before or after compaction) inserts nothing.
 * Every batch is laid out and every series text read before anything is written, so an
 * INVALID_BATCH leaves the store untouched.
 */
export async function appendPackedBatches(
  ctx: PackedAppendContext,
  batches: readonly MetricsBatchV2[],
): Promise<AppendManyResult> {
  const unique = new Map<string, MetricsBatchV2>();
  for (const b of batches) if (!unique.has(b.batchId)) unique.set(b.batchId, b);
  const pending: PendingRow[] = [];
  const unknown = new Map<string, string>(); // series key → canonical key
  const missing = new Map<string, Labels>(); // canonical key → labels, not in the catalog
  for (const b of unique.values()) {
    const p = layOut(b);
    const matched = ctx.cache.matchPrevious(targetKey(b), b.labels, p.texts, p.ids);
    let shared: Labels | undefined;
    for (let i = 0; i < p.texts.length && matched < p.texts.length; i++) {
      if (p.ids[i] !== 0) continue;
      const text = seriesKey(b.labels, p.texts[i]!);
      const id = ctx.cache.get(text);
      if (id !== undefined) {
        p.ids[i] = id;
        continue;
      }
      // (an id of 0 marks "resolve after the catalog"; matchPrevious zeroed every unmatched one)
      if (unknown.has(text)) continue;
      shared ??= readable(b, () => packedSharedLabels(b.labels));
      const labels = labelsOfText(b, shared, p.texts[i]!);
      const key = canonicalLabelKey(labels);
      unknown.set(text, key);
      if (ctx.catalog.idFor(key) === undefined && !missing.has(key)) missing.set(key, labels);
    }
    pending.push(p);
  }
  const newSeries = missing.size > 0 ? await ctx.createSeries(missing) : 0;
  for (const [text, key] of unknown) ctx.cache.set(text, ctx.catalog.idFor(key)!);
  if (unknown.size > 0) {
    for (const p of pending) {
      for (let i = 0; i < p.texts.length; i++)
        if (p.ids[i] === 0) p.ids[i] = ctx.cache.get(seriesKey(p.batch.labels, p.texts[i]!))!;
    }
  }
  for (const p of pending) ctx.cache.remember(targetKey(p.batch), p.batch.labels, p.texts, p.ids);
  if (ctx.beforeInsert && pending.length > 0)
    await ctx.beforeInsert(pending.map((p) => ({ batch: p.batch, ids: p.ids })));
  const inserted =
    pending.length > 0
      ? await repo.insertBatches(
          ctx.pool,
          ctx.schema,
          pending.map((p) => p.row),
        )
      : [];
  const samplesOf = new Map(pending.map((p) => [p.row.batchId, p.row.samples]));
  let samples = 0;
  for (const id of inserted) samples += samplesOf.get(id)!;
  return { inserted: inserted.length, duplicates: batches.length - inserted.length, samples, newSeries };
}
