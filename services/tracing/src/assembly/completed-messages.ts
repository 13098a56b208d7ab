import type { OutboxEntry, SerializedOutboxEntry } from '@arcwatch/outbox';
import {
  REQUEST_COMPLETED_BATCH_V1,
  SUBJECTS,
  cloudEvent,
  parseIsoTime,
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
        time: latestEnd(chunk),
        data,
      }),
    };
  });
}

/** The latest `endedAt` of the records (the first of equal instants written differently). */
function latestEnd(records: readonly RequestCompletedV1[]): string {
  let latest = records[0].endedAt;
  let latestMs = parseIsoTime(latest);
  for (const r of records) {
    const ms = parseIsoTime(r.endedAt);
    if (ms > latestMs) {
      latest = r.endedAt;
      latestMs = ms;
    }
  }
  return latest;
}

/**
 * `entries` serialized to UTF-8, each record's bytes taken from `bytesOf` rather than written
 * again: the closing statement's COPY already sent every record's JSON (AssemblyService.project),
 * and the same bytes go into the message. The bytes are those of JSON.stringify of the entry's
 * event, `data` being its last key (cloudEvent).
 */
export function serializedBatchEntries(
  entries: readonly OutboxEntry[],
  bytesOf: (record: RequestCompletedV1) => Buffer,
): Array<SerializedOutboxEntry & { json: Buffer }> {
  return entries.map(({ subject, event }) => {
    const { records } = event.data as RequestCompletedBatchV1;
    const head = JSON.stringify({ ...event, data: null });
    if (!head.endsWith(',"data":null}')) return { subject, id: event.id, json: Buffer.from(JSON.stringify(event)) };
    const parts: Buffer[] = [Buffer.from(`${head.slice(0, -'null}'.length)}{"records":[`)];
    records.forEach((r, i) => {
      if (i > 0) parts.push(COMMA);
      parts.push(bytesOf(r));
    });
    parts.push(CLOSE);
    return { subject, id: event.id, json: Buffer.concat(parts) };
  });
}

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}}');
