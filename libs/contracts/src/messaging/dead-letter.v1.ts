import { z } from 'zod';

/**
 * What a consumer could not process, published to `SUBJECTS.deadLetter(subject)` on AW_DLQ as a
 * CloudEvent of type `EVENT_TYPES.deadLetter`. The original body travels as base64 so a message
 * that is not JSON (or not UTF-8) survives intact and can be replayed after a fix.
 */
export const deadLetterV1Schema = z.object({
  /** Canonical stream name (AW_METRICS…), without a test namespace. */
  stream: z.string().min(1),
  durable: z.string().min(1),
  /** Canonical subject the message was published on, without a test namespace. */
  subject: z.string().min(1),
  /** Stream sequence of the original message. */
  seq: z.number().int().nonnegative(),
  deliveryCount: z.number().int().positive(),
  /** Why it was dead-lettered: the parse error, or the last handler error after maxDeliver. */
  reason: z.string().min(1),
  payloadBase64: z.string(),
  /** When the consumer gave up on it (ISO 8601). */
  receivedAt: z.string().datetime({ offset: true }),
});

export type DeadLetterV1 = z.infer<typeof deadLetterV1Schema>;
