import type { Labels, MetricsBatchV1 } from '@arcwatch/contracts';
import { StorageError } from '../errors';
import { encodeBatchPayload } from './head-payload.codec';
import type { HeadRowInput } from './sample-store.repository';
import { canonicalLabelKey } from './label-matching';
import type { SeriesCatalog } from './series-catalog';

/** A batch with the catalog id of each series (0 while unknown) and the keys it had to compute. */
export interface ResolvedBatch {
  batch: MetricsBatchV1;
  ids: Uint32Array;
  keys: (string | undefined)[];
}

const MAX_TARGETS = 50_000;

function sameLabels(a: Labels, b: Labels): boolean {
  let n = 0;
  for (const k in b) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  return n === Object.keys(a).length;
}

/**
 * Prometheus's scrape cache, for batches: a target exposes the same series in the same order
 * scrape after scrape, so the series at position i is usually the one seen there last time.
 * Comparing its labels with that one's is several times cheaper than building and hashing its
 * canonical key (about 200 characters for a DCGM series), which dominated ingest CPU.
 */
export class ScrapeCache {
  private readonly byTarget = new Map<string, { labels: Labels[]; ids: Uint32Array }>();

  resolve(batch: MetricsBatchV1, catalog: SeriesCatalog): ResolvedBatch {
    const prev = this.byTarget.get(targetKey(batch));
    const n = batch.series.length;
    const ids = new Uint32Array(n);
    const keys: (string | undefined)[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const labels = batch.series[i]!.labels;
      const last = prev?.labels[i];
      if (last !== undefined && sameLabels(last, labels)) {
        ids[i] = prev!.ids[i]!;
        continue;
      }
      if (!labels.__name__) throw new StorageError('INVALID_BATCH', `batch ${batch.batchId}: a series has no __name__`);
      const key = canonicalLabelKey(labels);
      keys[i] = key;
      ids[i] = catalog.idFor(key) ?? 0;
    }
    return { batch, ids, keys };
  }

  clear(): void {
    this.byTarget.clear();
  }

  remember(r: ResolvedBatch): void {
    if (this.byTarget.size >= MAX_TARGETS) this.byTarget.clear();
    this.byTarget.set(targetKey(r.batch), { labels: r.batch.series.map((s) => s.labels), ids: r.ids });
  }
}

function targetKey(b: MetricsBatchV1): string {
  return `${b.source}\u0000${b.target.job}\u0000${b.target.instance}`;
}

export function headRow(r: ResolvedBatch): HeadRowInput {
  const b = r.batch;
  let enc;
  try {
    enc = encodeBatchPayload(
      r.ids,
      b.series.map((s) => s.samples),
    );
  } catch (err) {
    throw new StorageError('INVALID_BATCH', `batch ${b.batchId}: ${(err as Error).message}`, { cause: err });
  }
  const empty = enc.samples === 0;
  return {
    batchId: b.batchId,
    minTs: empty ? b.scrapedAtMs : enc.minTs,
    maxTs: empty ? b.scrapedAtMs : enc.maxTs,
    samples: enc.samples,
    payload: enc.payload,
  };
}
