import {
  deterministicId,
  encodeFloat64Base64,
  formatSeriesText,
  toMetricsBatchV2,
  toWireValue,
  withoutShared,
  type Labels,
  type MetricsBatchExemplar,
  type MetricsBatchSeries,
  type MetricsBatchV2,
} from '@arcwatch/contracts';
import { newLabelCaches, type LabelCaches } from './exposition';
import type { ScrapedSample } from '../scrape/scrape-batch';
import { hostOf, labelsKey } from '../scrape/target';

/**
 * Text pushes to packed batches (`io.arcwatch.metrics.batch.v2`), one per target (job,
 * instance), as `groupIntoBatches` groups any pushed series, without rebuilding any series'
 * labels, key or series text on a push: the parser hands out one frozen label object per
 * distinct label text (shared across pushes through `labelCaches`), and the merged labels (with
 * extra labels and __name__), their key and their series text are kept per such object. A push
 * then costs a walk that appends each sample's series text, time and value to its target's
 * columns (docs/decisions/0003-ingest-path.md).
 */
interface MergedSeries {
  source: Labels;
  name: string;
  extraKey: string;
  labels: Labels;
  key: string;
  /** The series text without the batch's shared labels, for the shared labels `textShared` (usually the same push after push). */
  text: string;
  textShared: string | undefined;
  /** The series that followed this one last time: a target writes its series in a stable order. */
  next: MergedSeries | undefined;
}

export interface ImportBatchContext {
  cluster: string;
  contentKey: string;
  receivedAtMs: number;
}

/** One target's columns, in the order the push wrote its series. */
interface Columns {
  job: string;
  instance: string;
  series: MergedSeries[];
  times: number[];
  values: number[];
  /** A series appeared twice: its samples must be merged (rare; see `mergedBatch`). */
  repeated: boolean;
  /** OpenMetrics exemplars, by column (the sample they came with). */
  exemplars: Array<{ column: number; exemplar: Omit<MetricsBatchExemplar, 'series'> }>;
}

export class ImportBatchBuilder {
  readonly labelCaches: LabelCaches = newLabelCaches();
  // Keyed by the parser's label objects: entries go when the label cache drops those objects.
  private readonly merged = new WeakMap<Labels, Map<string, MergedSeries>>();

  build(samples: readonly ScrapedSample[], extraLabels: Labels, ctx: ImportBatchContext): MetricsBatchV2[] {
    // Keys seen in this push: the same series may come twice, even under another label order.
    const seen = new Set<string>();
    const extraKey = labelsKey(extraLabels);
    const groups = new Map<string, Columns>();
    let last: Columns | undefined;
    let prev: MergedSeries | undefined;
    for (const s of samples) {
      const guess = prev?.next;
      const m =
        guess !== undefined && guess.source === s.labels && guess.name === s.name && guess.extraKey === extraKey
          ? guess
          : this.mergedFor(s, extraLabels, extraKey);
      if (prev !== undefined) prev.next = m;
      prev = m;
      const job = m.labels.job ?? '';
      const instance = m.labels.instance ?? '';
      let g =
        last !== undefined && last.job === job && last.instance === instance
          ? last
          : groups.get(`${job}\u0000${instance}`);
      if (g === undefined) {
        g = { job, instance, series: [], times: [], values: [], repeated: false, exemplars: [] };
        groups.set(`${job}\u0000${instance}`, g);
      }
      last = g;
      if (seen.size === seen.add(m.key).size) g.repeated = true;
      const t = s.timestampMs ?? ctx.receivedAtMs;
      if (s.exemplar !== undefined && Number.isFinite(s.exemplar.value)) {
        g.exemplars.push({
          column: g.series.length,
          exemplar: {
            labels: { ...s.exemplar.labels },
            value: s.exemplar.value,
            timestampMs: s.exemplar.timestampMs ?? t,
          },
        });
      }
      g.series.push(m);
      g.times.push(t);
      g.values.push(s.value);
    }
    return [...groups.values()].map((g) => {
      const head = {
        batchId: deterministicId('import', g.job, g.instance, ctx.contentKey),
        source: 'import' as const,
        cluster: ctx.cluster,
        node: g.instance ? hostOf(g.instance) : 'import',
        target: { job: g.job, instance: g.instance },
        scrapedAtMs: ctx.receivedAtMs,
      };
      return g.repeated ? mergedBatch(head, g) : packedBatch(head, g);
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
      m = {
        source: s.labels,
        name: s.name,
        extraKey,
        labels,
        key: labelsKey(labels),
        text: '',
        textShared: undefined,
        next: undefined,
      };
      byName.set(k, m);
    }
    return m;
  }
}

type BatchHead = Omit<MetricsBatchV2, 'series' | 'values'>;

/**
 * The labels every series of the group has (name and value, __name__ aside), found by narrowing
 * the first series' labels: a handful of lookups per series, as the candidates shrink fast.
 */
function sharedOf(series: readonly MergedSeries[]): Labels | undefined {
  if (series.length < 2) return undefined;
  const first = series[0]!.labels;
  let names = Object.keys(first).filter((k) => k !== '__name__');
  for (let i = 1; i < series.length && names.length > 0; i++) {
    const l = series[i]!.labels;
    for (const n of names) {
      if (l[n] !== first[n]) {
        names = names.filter((k) => l[k] === first[k]);
        break;
      }
    }
  }
  if (names.length === 0) return undefined;
  const shared: Labels = {};
  for (const n of names.sort()) shared[n] = first[n]!;
  return shared;
}

/** Every series once: the columns are the batch. One shared time when all samples have it. */
function packedBatch(head: BatchHead, g: Columns): MetricsBatchV2 {
  const shared = sharedOf(g.series);
  const sharedText = shared === undefined ? undefined : formatSeriesText(shared);
  const texts = new Array<string>(g.series.length);
  for (let i = 0; i < texts.length; i++) {
    const m = g.series[i]!;
    if (m.textShared !== sharedText || m.text === '') {
      m.text = formatSeriesText(shared === undefined ? m.labels : withoutShared(m.labels, shared));
      m.textShared = sharedText;
    }
    texts[i] = m.text;
  }
  const n = g.times.length;
  const t0 = g.times[0];
  let sameTime = true;
  for (let i = 1; i < n && sameTime; i++) sameTime = g.times[i] === t0;
  // The exposition cannot say "stale": its values are plain numbers, safe in a number[].
  return {
    ...head,
    ...(sharedText === undefined ? {} : { labels: sharedText }),
    series: texts,
    ...(sameTime
      ? { timestampMs: t0 ?? head.scrapedAtMs }
      : { timestamps: encodeFloat64Base64(Float64Array.from(g.times)) }),
    values: encodeFloat64Base64(Float64Array.from(g.values)),
    ...(g.exemplars.length > 0 ? { exemplars: g.exemplars.map((e) => ({ series: e.column, ...e.exemplar })) } : {}),
  };
}

/** A series written more than once in the push: one series, its samples in time order. */
function mergedBatch(head: BatchHead, g: Columns): MetricsBatchV2 {
  const byKey = new Map<string, MetricsBatchSeries>();
  for (let i = 0; i < g.series.length; i++) {
    const m = g.series[i]!;
    const sample: [number, ReturnType<typeof toWireValue>] = [g.times[i]!, toWireValue(g.values[i]!)];
    const existing = byKey.get(m.key);
    if (existing) existing.samples.push(sample);
    else byKey.set(m.key, { labels: m.labels, samples: [sample] });
  }
  const series = [...byKey.values()];
  for (const s of series) if (s.samples.length > 1) s.samples.sort((a, b) => a[0] - b[0]);
  const index = new Map([...byKey.keys()].map((k, i) => [k, i]));
  const exemplars = g.exemplars.map((e) => ({ series: index.get(g.series[e.column]!.key)!, ...e.exemplar }));
  return toMetricsBatchV2({ ...head, series, ...(exemplars.length > 0 ? { exemplars } : {}) });
}
