import type { OutboxEntry } from '@arcwatch/outbox';
import {
  REQUEST_COMPLETED_BATCH_V1,
  SUBJECTS,
  cloudEvent,
  requestCompletedBatchId,
  type RequestCompletedBatchV1,
  type RequestCompletedV1,
} from '@arcwatch/contracts';
import { packBySubject } from '../pack-by-subject';

/**
 * The outbox entries of newly finished requests in the batch form: each tenant's records, in the
 * order given, packed into io.arcwatch.requests.completed-batch.v1 messages of at most
 * `perMessage`. The id comes from the request ids and the time from the latest end, so the same
 * records make the same message. (The single form, one message per request, is queued by the
 * closing statement itself: AssemblyRepository.finish.)
 */
export function completedBatchEntries(
  records: readonly RequestCompletedV1[],
  perMessage: number,
  source: string,
): OutboxEntry[] {
  return packBySubject(records, (r) => SUBJECTS.requestCompleted(r.tenant), perMessage).map(({ subject, chunk }) => {
    const data: RequestCompletedBatchV1 = { records: chunk };
    return {
      subject,
      event: cloudEvent({
        id: requestCompletedBatchId(chunk),
        type: REQUEST_COMPLETED_BATCH_V1,
        source,
        time: chunk.reduce((t, r) => (Date.parse(r.endedAt) > Date.parse(t) ? r.endedAt : t), chunk[0].endedAt),
        data,
      }),
    };
  });
}
