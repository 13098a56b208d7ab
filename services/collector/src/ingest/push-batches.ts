import { createHash } from 'node:crypto';
import {
  deterministicId,
  type MetricMetadata,
  type MetricsBatchExemplar,
  type MetricsBatchSeries,
  type MetricsBatchV1,
  type WireValue,
} from '@arcwatch/contracts';
import { hostOf, labelsKey } from '../scrape/target';

/**
 * Pushed samples (text import, remote_write) grouped into one batch per target, the target
 * being the samples' job and instance labels. The batch id is derived from the request's content
 * (and the target), so a client that retries the same request produces the same ids and the
 * retry is dropped.
 */
export interface PushedSeries {
  labels: Record<string, string>;
  /** Values already in wire form: a staleness marker must not pass through a plain number. */
  samples: Array<[number, WireValue]>;
  exemplars?: Array<{ labels: Record<string, string>; value: number; timestampMs: number }>;
}

export interface PushContext {
  source: 'import' | 'remote_write';
  cluster: string;
  /** Identity of the request's content: a hash of the body and anything else that shapes it. */
  contentKey: string;
  receivedAtMs: number;
  metadata?: MetricMetadata[];
}

export function contentKey(...parts: Array<string | Uint8Array>): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(p);
    h.update('\u0000');
  }
  return h.digest('hex');
}

export function groupIntoBatches(series: readonly PushedSeries[], ctx: PushContext): MetricsBatchV1[] {
  type Ex = NonNullable<PushedSeries['exemplars']>;
  const groups = new Map<
    string,
    { job: string; instance: string; series: Map<string, MetricsBatchSeries>; exemplars: Map<string, Ex> }
  >();
  for (const s of series) {
    if (!s.labels.__name__ || s.samples.length === 0) continue;
    const job = s.labels.job ?? '';
    const instance = s.labels.instance ?? '';
    const gk = `${job}\u0000${instance}`;
    let g = groups.get(gk);
    if (!g) {
      g = { job, instance, series: new Map(), exemplars: new Map() };
      groups.set(gk, g);
    }
    const key = labelsKey(s.labels);
    const existing = g.series.get(key);
    const samples = s.samples.map(([t, v]) => [t, v] as MetricsBatchSeries['samples'][number]);
    if (existing) existing.samples.push(...samples);
    else g.series.set(key, { labels: s.labels, samples });
    // a non-finite exemplar value cannot travel as JSON, and links nothing
    const ex = (s.exemplars ?? []).filter((e) => Number.isFinite(e.value));
    if (ex.length > 0) g.exemplars.set(key, [...(g.exemplars.get(key) ?? []), ...ex]);
  }
  return [...groups.values()].map((g) => {
    const list = [...g.series.values()];
    for (const s of list) s.samples.sort((a, b) => a[0] - b[0]);
    const exemplars: MetricsBatchExemplar[] = [];
    [...g.series.keys()].forEach((key, i) => {
      for (const e of g.exemplars.get(key) ?? [])
        exemplars.push({ series: i, labels: e.labels, value: e.value, timestampMs: e.timestampMs });
    });
    return {
      batchId: deterministicId(ctx.source, g.job, g.instance, ctx.contentKey),
      source: ctx.source,
      cluster: ctx.cluster,
      node: g.instance ? hostOf(g.instance) : ctx.source,
      target: { job: g.job, instance: g.instance },
      scrapedAtMs: ctx.receivedAtMs,
      series: list,
      ...(ctx.metadata && ctx.metadata.length > 0 ? { metadata: ctx.metadata } : {}),
      ...(exemplars.length > 0 ? { exemplars } : {}),
    };
  });
}

/** A batch with no samples that only carries metadata (remote_write's metadata requests). */
export function metadataOnlyBatch(ctx: PushContext): MetricsBatchV1 {
  return {
    batchId: deterministicId(ctx.source, 'metadata', ctx.contentKey),
    source: ctx.source,
    cluster: ctx.cluster,
    node: ctx.source,
    target: { job: '', instance: '' },
    scrapedAtMs: ctx.receivedAtMs,
    series: [],
    metadata: ctx.metadata ?? [],
  };
}
