/** Failures of the messaging layer itself (not of a handler), with a code a caller can branch on. */
export type MessagingErrorCode =
  | 'CONNECT_FAILED'
  | 'STREAM_CONFIG_CONFLICT'
  | 'PUBLISH_FAILED'
  | 'CONSUMER_CONFIG_INVALID'
  | 'DEAD_LETTER_FAILED'
  | 'BUS_DRAINING';

export class MessagingError extends Error {
  override readonly name = 'MessagingError';
  constructor(
    readonly code: MessagingErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${code}: ${message}`, options);
  }
}

/**
 * Thrown by a handler for a failure that may pass (database down, peer timeout). The message is
 * nak'ed and comes back after `delayMs` if given (say, a Retry-After), else after the consumer's
 * exponential backoff for its delivery count. At maxDeliver it is dead-lettered.
 */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  readonly code = 'RETRYABLE';
  constructor(
    message: string,
    readonly delayMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Thrown by a handler for a message that can never succeed (malformed, wrong type, bad data).
 * It is dead-lettered at once with this error's message as the reason, and terminated.
 */
export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';
  readonly code = 'POISON';
}
