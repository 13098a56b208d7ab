import { cloudEventSchema, EVENT_TYPES, metricsBatchV1Schema, type MetricsBatchV1 } from '@arcwatch/contracts';
import { parseOrPoison, PoisonMessageError, type InboundMessage } from '@arcwatch/messaging';

/**
 * Decodes a group of metrics batch messages for the writer. Every message is checked against
 * `metricsBatchV1Schema`'s rules, but a batch that is well formed (all of them, in practice) is
 * checked by the hand-written walk below instead of zod: zod's generic walk over 220 label
 * records and sample tuples per message was the writer's largest cost under the ingest
 * benchmark (docs/decisions/0003-ingest-path.md). Anything the walk does not accept goes through
 * zod (parseOrPoison), which decides, and words the dead-letter reason.
 */
export interface DecodedGroup {
  parsed: Array<{ msg: InboundMessage; batch: MetricsBatchV1 }>;
  failed: Map<number, PoisonMessageError>;
}

const SOURCES: ReadonlySet<unknown> = new Set(metricsBatchV1Schema.shape.source.options);
const WIRE_WORDS: ReadonlySet<unknown> = new Set(['NaN', '+Inf', '-Inf', 'stale']);

export function decodeGroup(msgs: readonly InboundMessage[]): DecodedGroup {
  const parsed: DecodedGroup['parsed'] = [];
  const failed = new Map<number, PoisonMessageError>();
  for (const msg of msgs) {
    const fast = fastDecode(msg.data);
    if (fast !== undefined) {
      parsed.push({ msg, batch: fast });
      continue;
    }
    try {
      parsed.push({ msg, batch: parseOrPoison(msg, EVENT_TYPES.metricsBatch, metricsBatchV1Schema).data });
    } catch (err) {
      if (!(err instanceof PoisonMessageError)) throw err;
      failed.set(msg.seq, err);
    }
  }
  return { parsed, failed };
}

/** The batch when the body is a well-formed metrics batch event; undefined lets zod decide. */
export function fastDecode(data: Uint8Array): MetricsBatchV1 | undefined {
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
  if (!env.success || env.data.type !== EVENT_TYPES.metricsBatch) return undefined;
  return isWellFormedBatch(body) ? body : undefined;
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
