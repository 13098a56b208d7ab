import { z } from 'zod';
import { deterministicId } from '../cloudevents/envelope';
import { EVENT_TYPES } from '../subjects';
import { REQUEST_EVENT_KINDS, apiKeyHashSchema, requestErrorSchema } from './request-event.v1';

/**
 * One assembled request: what billing, anomaly and the dashboards read. Published on
 * aw.requests.v1.completed.<tenant>, CloudEvents type io.arcwatch.requests.completed.v1, with
 * id = requestCompletedId(requestId): an assembly that runs twice (redelivery, replay, a restart
 * between publish and bookkeeping) produces the same id, dropped by JetStream's de-duplication
 * and by the projections' ON CONFLICT DO NOTHING.
 */
export const REQUEST_COMPLETED_V1 = EVENT_TYPES.requestCompleted;

export const REQUEST_STATUSES = ['completed', 'failed', 'cancelled', 'abandoned'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** Label value used where a request's tenant, team or project cannot be resolved. */
export const UNKNOWN_LABEL = 'unknown';

const ms = z.number().nonnegative().nullable();
const tokens = z.number().int().nonnegative().nullable();

export const requestTimelineEntrySchema = z.object({
  kind: z.enum(REQUEST_EVENT_KINDS),
  time: z.iso.datetime({ offset: true }),
});
export type RequestTimelineEntry = z.infer<typeof requestTimelineEntrySchema>;

export const requestCompletedV1Schema = z.object({
  requestId: z.string().min(1),
  status: z.enum(REQUEST_STATUSES),
  /** Earliest known time of the request (received, else the first phase seen). */
  startedAt: z.iso.datetime({ offset: true }),
  /** Terminal time; for `abandoned`, the last event seen. */
  endedAt: z.iso.datetime({ offset: true }),
  tenant: z.string(),
  team: z.string(),
  project: z.string(),
  apiKeyHash: apiKeyHashSchema.nullable(),
  model: z.string(),
  modelVersion: z.string(),
  instance: z.string().nullable(),
  node: z.string().nullable(),
  gpuUuids: z.array(z.string()),
  promptTokens: tokens,
  completionTokens: tokens,
  cachedTokens: tokens,
  finishReason: z.string().nullable(),
  error: requestErrorSchema.nullable(),
  /** scheduled − (queued, else received). */
  queueMs: ms,
  /** first_token − scheduled. */
  prefillMs: ms,
  /** first_token − received. */
  ttftMs: ms,
  /** (end − first_token) / (completionTokens − 1), for completed requests with ≥ 2 tokens. */
  tpotMs: ms,
  /** end − received, for requests that reached a terminal event. */
  e2eMs: ms,
  /** Phases that never arrived (a timing that needs them is null). */
  missingPhases: z.array(z.enum(REQUEST_EVENT_KINDS)),
  /** Every distinct phase seen, oldest first. */
  timeline: z.array(requestTimelineEntrySchema),
});
export type RequestCompletedV1 = z.infer<typeof requestCompletedV1Schema>;

export function requestCompletedId(requestId: string): string {
  return deterministicId('request-completed', requestId);
}
