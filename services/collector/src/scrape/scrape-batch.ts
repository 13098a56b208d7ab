import {
  deterministicId,
  STALE_NAN,
  toWireValue,
  type MetricMetadata,
  type MetricsBatchExemplar,
  type MetricsBatchSeries,
  type MetricsBatchV1,
  type WireValue,
} from '@arcwatch/contracts';
import { relabel, type CompiledRule, type LabelSet } from '../relabel/relabel';
import { labelsKey, type ScrapeTarget } from './target';

/**
 * The pure core of one scrape: from what the target answered (or how it failed) and what the
 * previous scrape saw, the batch to publish and the state for the next scrape. Follows
 * Prometheus: target labels win over scraped ones unless honor_labels (then the scraped label is
 * kept as exported_<name>), sample_limit fails the whole scrape, series that vanished since the
 * last scrape get a staleness marker, and up / scrape_* series describe every scrape.
 */
export interface ScrapedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
  /** OpenMetrics exemplar of the line (counter `_total`, histogram `_bucket`). */
  exemplar?: { labels: Record<string, string>; value: number; timestampMs?: number };
}

export type ScrapeOutcome =
  { ok: true; samples: readonly ScrapedSample[]; metadata?: readonly MetricMetadata[] } | { ok: false; error: string };

export interface ScrapeOptions {
  honorLabels: boolean;
  honorTimestamps: boolean;
  sampleLimit: number;
  seriesLimit: number;
  metricRules: readonly CompiledRule[];
  /** Prometheus's label_limit, label_name_length_limit, label_value_length_limit (0 or absent: none). */
  labelLimit?: number;
  labelNameLengthLimit?: number;
  labelValueLengthLimit?: number;
}

/**
 * Prometheus's label limits on one series after metric relabelling: the first one broken fails
 * the whole scrape (up=0), with Prometheus's message. Lengths are bytes, as Go's len().
 */
export function labelLimitError(labels: LabelSet, o: ScrapeOptions): string | undefined {
  const metric = (labels.__name__ ?? '').slice(0, 50);
  const names = Object.keys(labels);
  if (o.labelLimit && names.length > o.labelLimit)
    return `label_limit exceeded (metric: ${metric}, number of labels: ${names.length}, limit: ${o.labelLimit})`;
  if (!o.labelNameLengthLimit && !o.labelValueLengthLimit) return undefined;
  for (const name of names) {
    if (name === '__name__') continue;
    const nameLen = Buffer.byteLength(name);
    if (o.labelNameLengthLimit && nameLen > o.labelNameLengthLimit) {
      return `label_name_length_limit exceeded (metric: ${metric}, label name: ${name.slice(0, 50)}, length: ${nameLen}, limit: ${o.labelNameLengthLimit})`;
    }
    const value = labels[name]!;
    const valueLen = Buffer.byteLength(value);
    if (o.labelValueLengthLimit && valueLen > o.labelValueLengthLimit) {
      return `label_value_length_limit exceeded (metric: ${metric}, label name: ${name.slice(0, 50)}, value: ${JSON.stringify(value.slice(0, 50))}, length: ${valueLen}, limit: ${o.labelValueLengthLimit})`;
    }
  }
  return undefined;
}

/** What the next scrape needs to know: the series this target had, by key. */
export interface TargetScrapeState {
  series: ReadonlyMap<string, LabelSet>;
}

export const EMPTY_STATE: TargetScrapeState = { series: new Map() };

export interface ScrapeReport {
  up: boolean;
  error?: string;
  samplesScraped: number;
  samplesPostRelabel: number;
  seriesDroppedByLimit: number;
  staleMarkers: number;
}

export interface ScrapeResult {
  batch: MetricsBatchV1;
  state: TargetScrapeState;
  report: ScrapeReport;
}

export interface ScrapeInput {
  cluster: string;
  target: ScrapeTarget;
  options: ScrapeOptions;
  startMs: number;
  durationMs: number;
  outcome: ScrapeOutcome;
  previous: TargetScrapeState;
}

export const SYNTHETIC_SERIES = [
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
] as const;

export function scrapeBatchId(target: ScrapeTarget, startMs: number): string {
  return deterministicId('scrape', target.jobName, target.instance, startMs);
}

function mergeTargetLabels(sample: ScrapedSample, target: LabelSet, honorLabels: boolean): LabelSet {
  const out: LabelSet = { ...sample.labels, __name__: sample.name };
  for (const [name, value] of Object.entries(target)) {
    const scraped = out[name];
    if (scraped === undefined) {
      out[name] = value;
    } else if (!honorLabels) {
      let exported = `exported_${name}`;
      while (out[exported] !== undefined) exported = `exported_${exported}`;
      out[exported] = scraped;
      out[name] = value;
    }
  }
  return out;
}

interface Accepted {
  labels: LabelSet;
  samples: Array<[number, WireValue]>;
  tracked: boolean;
  exemplars?: Array<Omit<MetricsBatchExemplar, 'series'>>;
}

function exemplarOf(sample: ScrapedSample, ts: number): Omit<MetricsBatchExemplar, 'series'> | undefined {
  const e = sample.exemplar;
  // JSON cannot carry a non-finite value, and such an exemplar links nothing useful
  if (e === undefined || !Number.isFinite(e.value)) return undefined;
  return { labels: { ...e.labels }, value: e.value, timestampMs: e.timestampMs ?? ts };
}

export function buildScrapeBatch(input: ScrapeInput): ScrapeResult {
  const { target, options, startMs, outcome, previous } = input;
  const accepted = new Map<string, Accepted>();
  let error = outcome.ok ? undefined : outcome.error;
  const samplesScraped = outcome.ok ? outcome.samples.length : 0;
  let samplesPostRelabel = 0;
  let seriesDroppedByLimit = 0;

  if (outcome.ok) {
    for (const sample of outcome.samples) {
      const labels = relabel(mergeTargetLabels(sample, target.labels, options.honorLabels), options.metricRules);
      if (!labels || !labels.__name__) continue;
      samplesPostRelabel++;
      const limitError = error === undefined ? labelLimitError(labels, options) : undefined;
      if (limitError !== undefined) error = limitError;
      const key = labelsKey(labels);
      const explicit = options.honorTimestamps && sample.timestampMs !== undefined;
      const ts = explicit ? (sample.timestampMs as number) : startMs;
      const existing = accepted.get(key);
      const exemplar = exemplarOf(sample, ts);
      // A second sample for a series at the same time is a duplicate, as in Prometheus: first wins.
      if (existing) {
        if (!existing.samples.some(([t]) => t === ts)) {
          existing.samples.push([ts, toWireValue(sample.value)]);
          if (exemplar) (existing.exemplars ??= []).push(exemplar);
        }
        continue;
      }
      accepted.set(key, {
        labels,
        samples: [[ts, toWireValue(sample.value)]],
        tracked: !explicit,
        ...(exemplar ? { exemplars: [exemplar] } : {}),
      });
    }
    if (error !== undefined) {
      accepted.clear();
    } else if (options.sampleLimit > 0 && samplesPostRelabel > options.sampleLimit) {
      error = `sample_limit exceeded: ${samplesPostRelabel} samples > ${options.sampleLimit}`;
      accepted.clear();
    } else if (options.seriesLimit > 0 && accepted.size > options.seriesLimit) {
      // Series the target already had keep their place; new ones fill what is left, in order.
      const known = [...accepted.keys()].filter((k) => previous.series.has(k));
      const fresh = [...accepted.keys()].filter((k) => !previous.series.has(k));
      const keep = new Set([...known, ...fresh].slice(0, options.seriesLimit));
      for (const key of accepted.keys()) if (!keep.has(key)) accepted.delete(key);
      seriesDroppedByLimit = known.length + fresh.length - keep.size;
    }
  }

  const up = error === undefined;
  const synthetic: Array<[string, number]> = [
    ['up', up ? 1 : 0],
    ['scrape_duration_seconds', input.durationMs / 1000],
    ['scrape_samples_scraped', samplesScraped],
    ['scrape_samples_post_metric_relabeling', up ? samplesPostRelabel : 0],
  ];
  if (options.seriesLimit > 0) synthetic.push(['arcwatch_scrape_series_dropped_by_limit', seriesDroppedByLimit]);
  for (const [name, value] of synthetic) {
    const labels = { ...target.labels, __name__: name };
    accepted.set(labelsKey(labels), { labels, samples: [[startMs, toWireValue(value)]], tracked: true });
  }

  const series: MetricsBatchSeries[] = [];
  const exemplars: MetricsBatchExemplar[] = [];
  const nextState = new Map<string, LabelSet>();
  for (const [key, a] of accepted) {
    for (const e of a.exemplars ?? []) exemplars.push({ series: series.length, ...e });
    series.push({ labels: a.labels, samples: a.samples.sort((x, y) => x[0] - y[0]) });
    if (a.tracked) nextState.set(key, a.labels);
  }
  let staleMarkers = 0;
  for (const [key, labels] of previous.series) {
    if (nextState.has(key)) continue;
    series.push({ labels, samples: [[startMs, toWireValue(STALE_NAN)]] });
    staleMarkers++;
  }

  return {
    batch: {
      batchId: scrapeBatchId(target, startMs),
      source: 'scrape',
      cluster: input.cluster,
      node: target.node,
      target: { job: target.jobName, instance: target.instance },
      scrapedAtMs: startMs,
      series,
      ...(up && outcome.ok && outcome.metadata && outcome.metadata.length > 0
        ? { metadata: [...outcome.metadata] }
        : {}),
      ...(exemplars.length > 0 ? { exemplars } : {}),
    },
    state: { series: nextState },
    report: {
      up,
      ...(error === undefined ? {} : { error }),
      samplesScraped,
      samplesPostRelabel: up ? samplesPostRelabel : 0,
      seriesDroppedByLimit,
      staleMarkers,
    },
  };
}

/** When a target goes away: every series it had, synthetic ones included, becomes stale. */
export function buildEndOfTargetBatch(
  cluster: string,
  target: ScrapeTarget,
  previous: TargetScrapeState,
  atMs: number,
): MetricsBatchV1 | undefined {
  if (previous.series.size === 0) return undefined;
  return {
    batchId: deterministicId('scrape-end', target.jobName, target.instance, atMs),
    source: 'scrape',
    cluster,
    node: target.node,
    target: { job: target.jobName, instance: target.instance },
    scrapedAtMs: atMs,
    series: [...previous.series.values()].map((labels) => ({ labels, samples: [[atMs, toWireValue(STALE_NAN)]] })),
  };
}
