import { z } from 'zod';
import { deterministicId } from '../cloudevents/envelope';
import { EVENT_TYPES } from '../subjects';
import { parseIsoTime } from './iso-time';

/**
 * One step in the life of an LLM request, as the gateway (or the engine) saw it. Published on
 * aw.requests.v1.events.<tenant>, CloudEvents type io.arcwatch.requests.event.v1, with
 * id = requestEventId(requestId, kind, time) so that a re-sent event is one event.
 *
 * Every field but requestId, kind and time is optional: each event carries what its emitter
 * knew at that moment, and assembly merges them.
 */
export const REQUEST_EVENT_V1 = EVENT_TYPES.requestEvent;

export const REQUEST_EVENT_KINDS = [
  'received',
  'queued',
  'scheduled',
  'first_token',
  'completed',
  'failed',
  'cancelled',
] as const;
export type RequestEventKind = (typeof REQUEST_EVENT_KINDS)[number];

export const TERMINAL_KINDS: readonly RequestEventKind[] = ['completed', 'failed', 'cancelled'];

export function isTerminalKind(kind: RequestEventKind): boolean {
  return TERMINAL_KINDS.includes(kind);
}

/** Hex HMAC-SHA256 of an API key with the deployment's salt (see api-key-hash.ts). */
export const apiKeyHashSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters (HMAC-SHA256)');

const tokenCount = z.number().int().nonnegative();

export const requestErrorSchema = z.object({
  /** A short machine-readable reason, e.g. `timeout`, `oom`, `bad_request`; becomes a label. */
  code: z.string().min(1).max(64),
  message: z.string().max(2000).optional(),
});
export type RequestError = z.infer<typeof requestErrorSchema>;

/** The attributes any event may carry. */
const requestAttributes = {
  tenant: z.string().min(1).max(128).optional(),
  team: z.string().min(1).max(128).optional(),
  project: z.string().min(1).max(128).optional(),
  model: z.string().min(1).max(256).optional(),
  modelVersion: z.string().min(1).max(128).optional(),
  /** The serving instance (vLLM / SGLang / TGI process), e.g. `vllm-0:8000`. */
  instance: z.string().min(1).max(256).optional(),
  node: z.string().min(1).max(256).optional(),
  gpuUuids: z.array(z.string().min(1).max(128)).max(64).optional(),
  promptTokens: tokenCount.optional(),
  completionTokens: tokenCount.optional(),
  /** Prompt tokens served from the prefix cache. */
  cachedTokens: tokenCount.optional(),
  /** The engine's finish reason: `stop`, `length`, `abort`, … */
  finishReason: z.string().min(1).max(64).optional(),
  error: requestErrorSchema.optional(),
};

const base = {
  requestId: z.string().min(1).max(256),
  kind: z.enum(REQUEST_EVENT_KINDS),
  /** RFC 3339 with offset; millisecond precision is kept. */
  time: z.iso.datetime({ offset: true }),
  ...requestAttributes,
};

/** The published event: the API key only as its salted hash. */
export const requestEventV1Schema = z.object({
  ...base,
  apiKeyHash: apiKeyHashSchema.optional(),
  // A raw key must never travel past the ingest boundary: refuse it rather than strip it
  // quietly, so that a misconfigured emitter is noticed.
  apiKey: z.undefined({ error: 'raw API keys are not accepted here; send apiKeyHash' }).optional(),
});
export type RequestEventV1 = Omit<z.infer<typeof requestEventV1Schema>, 'apiKey'>;

/**
 * What an emitter may send to the ingest endpoints (HTTP batch, the JSONL file of the CLI):
 * the raw `apiKey` is allowed here and is replaced by its hash before anything is stored.
 */
export const requestEventInputSchema = z
  .object({ ...base, apiKey: z.string().min(1).max(512).optional(), apiKeyHash: apiKeyHashSchema.optional() })
  .refine((e) => !(e.apiKey !== undefined && e.apiKeyHash !== undefined), {
    message: 'send apiKey or apiKeyHash, not both',
    path: ['apiKey'],
  });
export type RequestEventInput = z.infer<typeof requestEventInputSchema>;

/** Millisecond epoch of an event's time (Date.parse's, see parseIsoTime). */
export function eventTimeMs(e: Pick<RequestEventV1, 'time'>): number {
  return parseIsoTime(e.time);
}

/**
 * The event's id: the same request, kind and instant is the same fact. `timeMs` is the event's
 * time when the caller has already parsed it.
 */
export function requestEventId(
  e: Pick<RequestEventV1, 'requestId' | 'kind' | 'time'>,
  timeMs: number = eventTimeMs(e),
): string {
  return deterministicId('request-event', e.requestId, e.kind, timeMs);
}

/** Most HTTP batch items accepted in one POST. */
export const REQUEST_EVENT_BATCH_MAX = 10_000;
