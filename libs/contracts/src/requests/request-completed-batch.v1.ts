import { z } from 'zod';
import { deterministicId } from '../cloudevents/envelope';
import { requestCompletedV1Schema, type RequestCompletedV1 } from './request-completed.v1';

/**
 * Several assembled requests of one tenant in one message:
 * `io.arcwatch.requests.completed-batch.v1`, on the same subject as the single form
 * (aw.requests.v1.completed.<tenant>). Consumers tell the two apart by the CloudEvent type. Each
 * record is exactly a `io.arcwatch.requests.completed.v1` record, and a request is in one message
 * only: the tracing service queues a request's record once, when it first finishes, whichever
 * form carries it. A consumer keys on `requestId` as it does for the single form.
 *
 * An addition beside `io.arcwatch.requests.completed.v1`, not a replacement: the tracing service
 * publishes this form by default (TRACING_COMPLETED_PER_MESSAGE, 500) and the single form with
 * TRACING_COMPLETED_PER_MESSAGE=1, for a consumer that only knows it (such a consumer
 * dead-letters the batch form). One message per request capped the request path at the
 * per-message cost of JetStream (docs/decisions/0011-completed-request-batches.md).
 */
export const REQUEST_COMPLETED_BATCH_V1 = 'io.arcwatch.requests.completed-batch.v1';

/** Most records in one message: about 1 MB of JSON at the largest records seen, NATS's default limit. */
export const REQUEST_COMPLETED_BATCH_MESSAGE_MAX = 1_000;

export const requestCompletedBatchV1Schema = z.object({
  records: z.array(requestCompletedV1Schema).min(1).max(REQUEST_COMPLETED_BATCH_MESSAGE_MAX),
});
export type RequestCompletedBatchV1 = { records: RequestCompletedV1[] };

/**
 * The message id: derived from the request ids it carries, in order. The same records queued
 * again (a relay that crashed after publishing) are one message for JetStream.
 */
export function requestCompletedBatchId(records: readonly Pick<RequestCompletedV1, 'requestId'>[]): string {
  return deterministicId('request-completed-batch', ...records.map((r) => r.requestId));
}
