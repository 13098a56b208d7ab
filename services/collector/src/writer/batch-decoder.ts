import {
  cloudEventSchema,
  EVENT_TYPES,
  metricsBatchV1Schema,
  metricsBatchV2Schema,
  type MetricsBatchV1,
  type MetricsBatchV2,
} from '@arcwatch/contracts';
import { z } from 'zod';
import { parseOrPoison, PoisonMessageError, type InboundMessage } from '@arcwatch/messaging';

/**
 * Decodes a group of metrics batch messages for the writer: `io.arcwatch.metrics.batch.v2`
 * (what the collector publishes) and `io.arcwatch.metrics.batch.v1` (older collectors, other
 * producers such as tracing's statistics) share the subject; anything else is dead-lettered
 * with the reason.
 *
 * A v1 batch that is well formed (all of them, in practice) is checked by the hand-written walk
 * below instead of zod: zod's generic walk over 220 label records and sample tuples per message
 * was the writer's largest cost under the ingest benchmark (docs/decisions/0003-ingest-path.md).
 * A v2 batch is a few strings and one array of strings, where zod is cheap. Anything the fast
 * path does not accept goes through zod (parseOrPoison), which decides, and words the reason.
 */
export type DecodedBatch =
  | { type: typeof EVENT_TYPES.metricsBatch; batch: MetricsBatchV1 }
  | { type: typeof EVENT_TYPES.metricsBatchV2; batch: MetricsBatchV2 };

export interface DecodedGroup {
  parsed: Array<{ msg: InboundMessage } & DecodedBatch>;
  failed: Map<number, PoisonMessageError>;
}

const BATCH_TYPES = [EVENT_TYPES.metricsBatch, EVENT_TYPES.metricsBatchV2] as const;
const SOURCES: ReadonlySet<unknown> = new Set(metricsBatchV1Schema.shape.source.options);
const WIRE_WORDS: ReadonlySet<unknown> = new Set(['NaN', '+Inf', '-Inf', 'stale']);

export function decodeGroup(msgs: readonly InboundMessage[]): DecodedGroup {
  const parsed: DecodedGroup['parsed'] = [];
  const failed = new Map<number, PoisonMessageError>();
  for (const msg of msgs) {
    const fast = fastDecode(msg.data);
    if (fast !== undefined) {
      parsed.push({ msg, ...fast });
      continue;
    }
    try {
      parsed.push({ msg, ...slowDecode(msg) });
    } catch (err) {
      if (!(err instanceof PoisonMessageError)) throw err;
      failed.set(msg.seq, err);
    }
  }
  return { parsed, failed };
}

/** zod's verdict, by the event's type; throws PoisonMessageError with the reason. */
function slowDecode(msg: InboundMessage): DecodedBatch {
  // the envelope and the type first (a body that is neither is refused here), then the data by its own schema
  const event = parseOrPoison(msg, BATCH_TYPES, z.unknown());
  if (event.type === EVENT_TYPES.metricsBatchV2)
    return { type: EVENT_TYPES.metricsBatchV2, batch: parseOrPoison(msg, BATCH_TYPES, metricsBatchV2Schema).data };
  return { type: EVENT_TYPES.metricsBatch, batch: parseOrPoison(msg, BATCH_TYPES, metricsBatchV1Schema).data };
}

/** The batch when the body is a well-formed metrics batch event; undefined lets zod decide. */
export function fastDecode(data: Uint8Array): DecodedBatch | undefined {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const { data: body, ...envelope } = json as Record<string, unknown>;
  // The envelope is a handful of fields: zod is cheap there and keeps the time format rule in one
  // place. `data` must be present; its content is checked below.
  if (!('data' in json)) return undefined;
  const env = cloudEventSchema.safeParse({ ...envelope, data: null });
  if (!env.success) return undefined;
  if (env.data.type === EVENT_TYPES.metricsBatchV2) {
    const v2 = metricsBatchV2Schema.safeParse(body);
    return v2.success ? { type: EVENT_TYPES.metricsBatchV2, batch: v2.data } : undefined;
  }
  if (env.data.type !== EVENT_TYPES.metricsBatch) return undefined;
  return isWellFormedBatch(body) ? { type: EVENT_TYPES.metricsBatch, batch: body } : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** metricsBatchV1Schema's rules, by hand; batches with metadata are left to zod. */
export function isWellFormedBatch(d: unknown): d is MetricsBatchV1 {
  if (!isRecord(d)) return false;
  if (typeof d.batchId !== 'string' || d.batchId.length === 0 || !SOURCES.has(d.source)) return false;
  if (typeof d.cluster !== 'string' || typeof d.node !== 'string' || !Number.isSafeInteger(d.scrapedAtMs)) return false;
  const t = d.target;
  if (!isRecord(t) || typeof t.job !== 'string' || typeof t.instance !== 'string') return false;
  if (d.metadata !== undefined || !Array.isArray(d.series)) return false;
  for (const s of d.series as unknown[]) {
    if (!isRecord(s)) return false;
    const labels = s.labels;
    if (!isRecord(labels)) return false;
    for (const k in labels) if (typeof labels[k] !== 'string') return false;
    const samples = s.samples;
    if (!Array.isArray(samples) || samples.length === 0) return false;
    for (const p of samples as unknown[]) {
      if (!Array.isArray(p) || p.length !== 2 || !Number.isSafeInteger(p[0])) return false;
      const v: unknown = p[1];
      if (typeof v !== 'number' && !WIRE_WORDS.has(v)) return false;
    }
  }
  return true;
}
