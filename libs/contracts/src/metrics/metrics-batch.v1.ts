import { z } from 'zod';
import { EVENT_TYPES } from '../subjects';
import { STALE_NAN, isStaleNaN } from './series';

/**
 * One scrape or push of one target: every sample it produced, with the target's identity.
 * Published on aw.metrics.v1.samples.<cluster>.<node>, CloudEvents type io.arcwatch.metrics.batch.v1,
 * id = batchId (deterministic: source, target and scrape time).
 *
 * Values travel as JSON numbers; the four values JSON cannot carry travel as strings:
 * "NaN", "+Inf", "-Inf" and "stale" (Prometheus's staleness marker).
 */
export const METRICS_BATCH_V1 = EVENT_TYPES.metricsBatch;

export const wireValueSchema = z.union([z.number(), z.enum(['NaN', '+Inf', '-Inf', 'stale'])]);
export type WireValue = z.infer<typeof wireValueSchema>;

export const metricsBatchSeriesSchema = z.object({
  /** Full label set including __name__, after relabelling; job and instance included. */
  labels: z.record(z.string(), z.string()),
  /** [timestamp ms, value] pairs, oldest first. */
  samples: z.array(z.tuple([z.number().int(), wireValueSchema])).min(1),
});

export const metricMetadataSchema = z.object({
  metric: z.string(),
  type: z.enum(['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset', 'unknown']),
  help: z.string().optional(),
  unit: z.string().optional(),
});

/**
 * An exemplar attached to one series of the batch (OpenMetrics: a counter's `_total` or a histogram's
 * `_bucket` line): the observation it stands for, with the labels that link it elsewhere —
 * `trace_id`, or `request_id` for tracing's latency buckets. `series` indexes the batch's `series`
 * (the same order in v1 and v2). Optional: producers and consumers that know nothing of exemplars
 * stay on v1 / v2 unchanged.
 */
export const metricsBatchExemplarSchema = z.object({
  series: z.number().int().min(0),
  labels: z.record(z.string(), z.string()),
  value: z.number(),
  /** ms since epoch; the sample's time when the exposition gave none. */
  timestampMs: z.number().int(),
});

export const metricsBatchV1Schema = z.object({
  batchId: z.string().min(1),
  source: z.enum(['scrape', 'import', 'remote_write', 'agent', 'recording_rule', 'tracing']),
  cluster: z.string(),
  node: z.string(),
  target: z.object({ job: z.string(), instance: z.string() }),
  /** When the scrape started (or the push arrived), ms since epoch. */
  scrapedAtMs: z.number().int(),
  series: z.array(metricsBatchSeriesSchema),
  metadata: z.array(metricMetadataSchema).optional(),
  exemplars: z.array(metricsBatchExemplarSchema).optional(),
});

export type MetricsBatchExemplar = z.infer<typeof metricsBatchExemplarSchema>;
export type MetricsBatchV1 = z.infer<typeof metricsBatchV1Schema>;
export type MetricsBatchSeries = z.infer<typeof metricsBatchSeriesSchema>;
export type MetricMetadata = z.infer<typeof metricMetadataSchema>;

export function toWireValue(v: number): WireValue {
  if (Number.isFinite(v)) return v;
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return isStaleNaN(v) ? 'stale' : 'NaN';
}

export function fromWireValue(v: WireValue): number {
  if (typeof v === 'number') return v;
  switch (v) {
    case '+Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case 'stale':
      return STALE_NAN;
    default:
      return NaN;
  }
}
