import type { EventItem } from '@arcwatch/messaging';
import {
  EVENT_TYPES,
  REQUEST_EVENT_BATCH_V1,
  SUBJECTS,
  cloudEvent,
  requestEventBatchId,
  requestEventId,
  type RequestEventBatchV1,
  type RequestEventV1,
} from '@arcwatch/contracts';
import { packBySubject } from '../pack-by-subject';

export const INGEST_SOURCE = 'arcwatch/tracing/ingest';

/**
 * The JetStream messages for a group of accepted events: one io.arcwatch.requests.event.v1 per
 * event when `perMessage` is 1, otherwise each tenant's events packed, in arrival order, into
 * io.arcwatch.requests.event-batch.v1 messages of at most `perMessage` events. Every message has
 * a deterministic id, so a re-posted group is dropped by JetStream. Pure: the benchmark publishes
 * the same messages to a bare consumer as its reference.
 */
export function eventMessages(
  events: readonly RequestEventV1[],
  perMessage: number,
  tenantOf: (e: RequestEventV1) => string,
): EventItem[] {
  if (perMessage === 1)
    return events.map((e) => ({
      subject: SUBJECTS.requestEvents(tenantOf(e)),
      event: cloudEvent({
        id: requestEventId(e),
        type: EVENT_TYPES.requestEvent,
        source: INGEST_SOURCE,
        subject: e.requestId,
        time: e.time,
        data: e,
      }),
    }));
  return packBySubject(events, (e) => SUBJECTS.requestEvents(tenantOf(e)), perMessage).map(({ subject, chunk }) => {
    const data: RequestEventBatchV1 = { events: chunk };
    return {
      subject,
      event: cloudEvent({
        id: requestEventBatchId(chunk),
        type: REQUEST_EVENT_BATCH_V1,
        source: INGEST_SOURCE,
        data,
      }),
    };
  });
}
