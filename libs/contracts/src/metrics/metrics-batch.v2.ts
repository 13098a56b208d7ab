import { z } from 'zod';
import { EVENT_TYPES } from '../subjects';
import { metricMetadataSchema, metricsBatchExemplarSchema, metricsBatchV1Schema } from './metrics-batch.v1';
import { base64Length } from './packed-float64';

/**
 * One scrape or push of one target, packed: `io.arcwatch.metrics.batch.v2`. The same fact as a
 * v1 batch (same batchId, same CloudEvent id, same subject aw.metrics.v1.samples.<cluster>.<node>:
 * consumers tell the two apart by the event type), laid out so that neither side builds an object
 * per series or per sample:
 *
 * - `labels`: what every series of the batch shares, once, as a series text without a name
 *   (`{Hostname="gpu-node-001",instance="gpu-node-001",job="fleet"}`): the target's identity and
 *   whatever else the exporter repeats on every line. Absent when nothing is shared.
 * - `series`: per series, the canonical series text of the rest (`name{a="x",b="y"}`, labels
 *   sorted, see series-text.ts). The full label set is `labels` plus this; no name is in both.
 *   A writer maps (`labels`, text) to a series id through a cache without reading either;
 *   producers keep the text per series between scrapes. Factoring the shared labels out halves
 *   a DCGM batch (docs/decisions/0003-ingest-path.md).
 * - `counts`: samples per series, in `series` order; absent when every series has exactly one.
 * - `timestampMs`: the time of every sample (the common case: one scrape, one time), or
 *   `timestamps`: base64 of little-endian float64 milliseconds, one per sample. Exactly one is set.
 * - `values`: base64 of little-endian float64, one per sample, series after series. The bits are
 *   the sample's: NaN payloads (the staleness marker 0x7ff0000000000002), ±Inf and -0 survive.
 *
 * The zod schema checks the layout (lengths agree, base64 alphabet); the series texts are read
 * by the consumer, which refuses a batch whose text it cannot read.
 */
export const METRICS_BATCH_V2 = EVENT_TYPES.metricsBatchV2;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const base64Schema = z.string().regex(BASE64, 'not base64');

export const metricsBatchV2Schema = z
  .object({
    batchId: z.string().min(1),
    source: metricsBatchV1Schema.shape.source,
    cluster: z.string(),
    node: z.string(),
    target: z.object({ job: z.string(), instance: z.string() }),
    /** When the scrape started (or the push arrived), ms since epoch. */
    scrapedAtMs: z.number().int(),
    labels: z.string().optional(),
    series: z.array(z.string()),
    counts: z.array(z.number().int().min(1)).optional(),
    timestampMs: z.number().int().optional(),
    timestamps: base64Schema.optional(),
    values: base64Schema,
    metadata: z.array(metricMetadataSchema).optional(),
    exemplars: z.array(metricsBatchExemplarSchema).optional(),
  })
  .superRefine((b, ctx) => {
    if (b.counts !== undefined && b.counts.length !== b.series.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['counts'],
        message: `${b.counts.length} counts for ${b.series.length} series`,
      });
      return;
    }
    const total = packedSampleCount(b);
    if ((b.timestampMs === undefined) === (b.timestamps === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['timestampMs'],
        message: 'exactly one of timestampMs and timestamps is required',
      });
    }
    if (b.timestamps !== undefined && b.timestamps.length !== base64Length(total)) {
      ctx.addIssue({ code: 'custom', path: ['timestamps'], message: `not ${total} float64 values` });
    }
    if (b.values.length !== base64Length(total))
      ctx.addIssue({ code: 'custom', path: ['values'], message: `not ${total} float64 values` });
    b.exemplars?.forEach((e, i) => {
      if (e.series >= b.series.length)
        ctx.addIssue({
          code: 'custom',
          path: ['exemplars', i, 'series'],
          message: `no series ${e.series} in a batch of ${b.series.length}`,
        });
    });
  });

export type MetricsBatchV2 = z.infer<typeof metricsBatchV2Schema>;

/** Samples in a batch: the sum of `counts`, or one per series. */
export function packedSampleCount(b: Pick<MetricsBatchV2, 'series' | 'counts'>): number {
  if (b.counts === undefined) return b.series.length;
  let n = 0;
  for (const c of b.counts) n += c;
  return n;
}
