import { deadLetterV1Schema, EVENT_TYPES, metricsBatchV1Schema } from '@arcwatch/contracts';
import { deadLetterEvent } from './dead-letter';
import { PoisonMessageError } from './errors';
import { parseOrPoison } from './parse-or-poison';

const base = {
  stream: 'AW_METRICS',
  durable: 'writer',
  subject: 'aw.metrics.v1.samples.c1.n1',
  seq: 42,
  deliveryCount: 1,
  reason: 'body is not JSON',
  payload: new Uint8Array([0xff, 0x00, 0x7b]),
  source: 'arcwatch/collector',
  now: new Date('2025-01-02T03:04:05.000Z'),
};

describe('deadLetterEvent', () => {
  it('builds a valid dead-letter CloudEvent on aw.dlq.<original subject> that keeps the raw bytes', () => {
    const { subject, event } = deadLetterEvent(base);
    expect(subject).toBe('aw.dlq.aw.metrics.v1.samples.c1.n1');
    expect(event.type).toBe(EVENT_TYPES.deadLetter);
    const data = deadLetterV1Schema.parse(event.data);
    expect(data).toMatchObject({
      stream: 'AW_METRICS',
      durable: 'writer',
      seq: 42,
      reason: 'body is not JSON',
      receivedAt: '2025-01-02T03:04:05.000Z',
    });
    expect([...Buffer.from(data.payloadBase64, 'base64')]).toEqual([0xff, 0x00, 0x7b]);
  });

  it('gives the same id for the same (stream, durable, seq), so a second dead-lettering is a duplicate', () => {
    const a = deadLetterEvent(base).event.id;
    expect(deadLetterEvent({ ...base, deliveryCount: 3, reason: 'other', now: new Date() }).event.id).toBe(a);
    expect(deadLetterEvent({ ...base, seq: 43 }).event.id).not.toBe(a);
    expect(deadLetterEvent({ ...base, durable: 'anomaly' }).event.id).not.toBe(a);
  });

  it('truncates a huge reason and never leaves it empty', () => {
    expect(deadLetterEvent({ ...base, reason: 'x'.repeat(10_000) }).event.data.reason.length).toBeLessThanOrEqual(
      2_001,
    );
    expect(deadLetterEvent({ ...base, reason: '' }).event.data.reason).toBe('(no reason given)');
  });
});

describe('parseOrPoison', () => {
  const msg = (body: string) => ({
    data: new TextEncoder().encode(body),
    subject: 'aw.metrics.v1.samples.c.n',
    seq: 7,
  });

  it('throws PoisonMessageError naming subject, seq and the JSON problem', () => {
    expect(() => parseOrPoison(msg('{not json'), EVENT_TYPES.metricsBatch, metricsBatchV1Schema)).toThrow(
      PoisonMessageError,
    );
    expect(() => parseOrPoison(msg('{not json'), EVENT_TYPES.metricsBatch, metricsBatchV1Schema)).toThrow(
      /aw\.metrics\.v1\.samples\.c\.n#7: body is not JSON/,
    );
  });

  it('names an unexpected event type', () => {
    const ev = {
      specversion: '1.0',
      id: 'x',
      source: 's',
      type: 'io.other.v1',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: {},
    };
    expect(() => parseOrPoison(msg(JSON.stringify(ev)), EVENT_TYPES.metricsBatch, metricsBatchV1Schema)).toThrow(
      /unexpected event type io\.other\.v1/,
    );
  });
});
