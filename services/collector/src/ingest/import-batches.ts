import { deterministicId, toWireValue, type Labels, type MetricsBatchSeries, type MetricsBatchV1 } from '@arcwatch/contracts';
import { LabelCache, type ExpositionFormat } from '@arcwatch/exposition';
import type { ScrapedSample } from '../scrape/scrape-batch';
import { hostOf, labelsKey } from '../scrape/target';

/**
 * Text pushes to batches, one per target (job, instance), as `groupIntoBatches` does for any
 * pushed series, without rebuilding every series' labels and canonical key on every push: the
 * parser hands out one frozen label object per distinct label text (shared across pushes through
 * `labelCaches`), and the merged labels (with extra labels and __name__) and their key are kept
 * per such object. The ingest benchmark spent about a third of the push handler there
 * (docs/decisions/0003-ingest-path.md).
 */
interface MergedSeries {
  source: Labels;
  name: string;
  extraKey: string;
  labels: Labels;
  key: string;
  /** The series that followed this one last time: a target writes its series in a stable order. */
  next: MergedSeries | undefined;
}

export interface ImportBatchContext {
  cluster: string;
  contentKey: string;
  receivedAtMs: number;
}

export class ImportBatchBuilder {
  readonly labelCaches: Record<ExpositionFormat, LabelCache> = { prometheus: new LabelCache(), openmetrics: new LabelCache() };
  // Keyed by the parser's label objects: entries go when the label cache drops those objects.
  private readonly merged = new WeakMap<Labels, Map<string, MergedSeries>>();

  build(samples: readonly ScrapedSample[], extraLabels: Labels, ctx: ImportBatchContext): MetricsBatchV1[] {
    const extraKey = labelsKey(extraLabels);
    const groups = new Map<string, { job: string; instance: string; series: Map<string, MetricsBatchSeries> }>();
    let last: { job: string; instance: string; series: Map<string, MetricsBatchSeries> } | undefined;
    let prev: MergedSeries | undefined;
    for (const s of samples) {
      const guess = prev?.next;
      const m = guess !== undefined && guess.source === s.labels && guess.name === s.name && guess.extraKey === extraKey ? guess : this.mergedFor(s, extraLabels, extraKey);
      if (prev !== undefined) prev.next = m;
      prev = m;
      const job = m.labels.job ?? '';
      const instance = m.labels.instance ?? '';
      let g = last !== undefined && last.job === job && last.instance === instance ? last : groups.get(`${job}\u0000${instance}`);
      if (g === undefined) {
        g = { job, instance, series: new Map() };
        groups.set(`${job}\u0000${instance}`, g);
      }
      last = g;
      const sample: [number, ReturnType<typeof toWireValue>] = [s.timestampMs ?? ctx.receivedAtMs, toWireValue(s.value)];
      const existing = g.series.get(m.key);
      if (existing) existing.samples.push(sample);
      else g.series.set(m.key, { labels: m.labels, samples: [sample] });
    }
    return [...groups.values()].map((g) => {
      const series = [...g.series.values()];
      for (const s of series) if (s.samples.length > 1) s.samples.sort((a, b) => a[0] - b[0]);
      return {
        batchId: deterministicId('import', g.job, g.instance, ctx.contentKey),
        source: 'import',
        cluster: ctx.cluster,
        node: g.instance ? hostOf(g.instance) : 'import',
        target: { job: g.job, instance: g.instance },
        scrapedAtMs: ctx.receivedAtMs,
        series,
      };
    });
  }

  private mergedFor(s: ScrapedSample, extraLabels: Labels, extraKey: string): MergedSeries {
    let byName = this.merged.get(s.labels);
    if (byName === undefined) {
      byName = new Map();
      this.merged.set(s.labels, byName);
    }
    const k = `${s.name}\u0000${extraKey}`;
    let m = byName.get(k);
    if (m === undefined) {
      const labels = Object.freeze({ ...s.labels, ...extraLabels, __name__: s.name });
      m = { source: s.labels, name: s.name, extraKey, labels, key: labelsKey(labels), next: undefined };
      byName.set(k, m);
    }
    return m;
  }
}
