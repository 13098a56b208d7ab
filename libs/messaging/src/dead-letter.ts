import {
  cloudEvent,
  deterministicId,
  EVENT_TYPES,
  SUBJECTS,
  type CloudEvent,
  type DeadLetterV1,
} from '@arcwatch/contracts';

export interface DeadLetterInput {
  /** Canonical stream name (AW_METRICS…). */
  stream: string;
  durable: string;
  /** Canonical subject of the original message. */
  subject: string;
  seq: number;
  deliveryCount: number;
  reason: string;
  payload: Uint8Array;
  source: string;
  now: Date;
}

/** Reasons are for people reading a DLQ; a multi-megabyte stack trace helps nobody. */
const MAX_REASON_CHARS = 2_000;

/**
 * The dead-letter event for one message. Its id depends only on (stream, durable, seq), so a
 * crash between publishing it and terminating the original publishes a duplicate that JetStream
 * drops, instead of a second DLQ entry.
 */
export function deadLetterEvent(input: DeadLetterInput): { subject: string; event: CloudEvent<DeadLetterV1> } {
  const reason = input.reason.length > MAX_REASON_CHARS ? `${input.reason.slice(0, MAX_REASON_CHARS)}…` : input.reason;
  const data: DeadLetterV1 = {
    stream: input.stream,
    durable: input.durable,
    subject: input.subject,
    seq: input.seq,
    deliveryCount: input.deliveryCount,
    reason: reason.length === 0 ? '(no reason given)' : reason,
    payloadBase64: Buffer.from(input.payload).toString('base64'),
    receivedAt: input.now.toISOString(),
  };
  return {
    subject: SUBJECTS.deadLetter(input.subject),
    event: cloudEvent({
      id: deterministicId('dlq', input.stream, input.durable, input.seq),
      type: EVENT_TYPES.deadLetter,
      source: input.source,
      subject: input.subject,
      time: input.now,
      data,
    }),
  };
}
