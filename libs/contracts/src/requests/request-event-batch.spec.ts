import {
  requestEventBatchId,
  requestEventBatchV1Schema,
  REQUEST_EVENT_BATCH_MESSAGE_MAX,
} from './request-event-batch.v1';
import type { RequestEventV1 } from './request-event.v1';

const received = { requestId: 'r-1', kind: 'received', time: '2025-06-01T12:00:00.000Z' } as const;
const completed = {
  requestId: 'r-1',
  kind: 'completed',
  time: '2025-06-01T12:00:01.000Z',
  completionTokens: 3,
} as const;

describe('request event batch contract', () => {
  it('carries published events: a raw API key inside is refused with the path of the event', () => {
    expect(requestEventBatchV1Schema.safeParse({ events: [received, completed] }).success).toBe(true);
    const r = requestEventBatchV1Schema.safeParse({ events: [received, { ...completed, apiKey: 'sk-1' }] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].path).toEqual(['events', 1, 'apiKey']);
  });

  it('is never empty and never larger than the message limit', () => {
    expect(requestEventBatchV1Schema.safeParse({ events: [] }).success).toBe(false);
    const tooMany = Array.from({ length: REQUEST_EVENT_BATCH_MESSAGE_MAX + 1 }, () => received);
    expect(requestEventBatchV1Schema.safeParse({ events: tooMany }).success).toBe(false);
  });

  it('keeps the message id of earlier versions: a replay of old messages is deduplicated the same way', () => {
    // sha-256 of "request-event-batch", then each event's request id, kind and epoch ms, every
    // part followed by NUL (the value earlier versions published for this batch).
    expect(requestEventBatchId([received, completed])).toBe('2c13537daa5b0169fe1330d680734027');
  });

  it('derives the message id from the event ids, in order', () => {
    const id = requestEventBatchId([received, completed]);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const moreTokens: RequestEventV1 = { ...completed, completionTokens: 9 };
    expect(requestEventBatchId([received, moreTokens])).toBe(id); // same facts, same ids
    expect(requestEventBatchId([{ ...received, time: '2025-06-01T14:00:00.000+02:00' }, completed])).toBe(id); // the same instant
    expect(requestEventBatchId([completed, received])).not.toBe(id);
    expect(requestEventBatchId([received])).not.toBe(id);
  });
});
