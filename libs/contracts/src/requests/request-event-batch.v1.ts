import { z } from 'zod';
import { deterministicId } from '../cloudevents/envelope';
import { eventTimeMs, requestEventV1Schema, type RequestEventV1 } from './request-event.v1';

/**
 * Several lifecycle events in one message: `io.arcwatch.requests.event-batch.v1`, on the same
 * subject as single events (aw.requests.v1.events.<tenant>, every event of the message belongs to
 * that tenant's subject). Consumers tell the two apart by the CloudEvent type. Each event keeps
 * its own deterministic id (requestEventId), so a consumer de-duplicates events the same way
 * whichever form brought them; the message id is derived from the event ids it carries, so the
 * same group published again is one message for JetStream.
 *
 * An addition beside `io.arcwatch.requests.event.v1`, not a replacement: both stay accepted, and
 * a consumer that only knows the single form dead-letters this one. The tracing ingest publishes
 * this form by default (TRACING_INGEST_EVENTS_PER_MESSAGE, 500): one message per event capped
 * the whole path at the per-message cost of JetStream delivery.
 */
export const REQUEST_EVENT_BATCH_V1 = 'io.arcwatch.requests.event-batch.v1';

/** Most events in one message: about 150 KB of JSON at typical sizes, well under NATS's 1 MB. */
export const REQUEST_EVENT_BATCH_MESSAGE_MAX = 1_000;

export const requestEventBatchV1Schema = z.object({
  events: z.array(requestEventV1Schema).min(1).max(REQUEST_EVENT_BATCH_MESSAGE_MAX),
});
export type RequestEventBatchV1 = { events: RequestEventV1[] };

/**
 * The message id: the same events (request, kind, instant, as in requestEventId) in the same
 * order are the same message. One hash over all of them, not one per event.
 */
export function requestEventBatchId(events: readonly Pick<RequestEventV1, 'requestId' | 'kind' | 'time'>[]): string {
  // deterministicId('request-event-batch', id1, kind1, ms1, id2, …) without the array of 3 parts
  // per event: one part joined here is the same bytes (each part is followed by NUL).
  let joined = 'request-event-batch';
  for (const e of events) joined += `\u0000${e.requestId}\u0000${e.kind}\u0000${eventTimeMs(e)}`;
  return deterministicId(joined);
}
