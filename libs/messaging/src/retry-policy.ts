import { PoisonMessageError, RetryableError } from './errors';

/** Exponential backoff between redeliveries of a failing message, capped. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000 };

/** What to do with a delivered message once its handler has settled. */
export type Settlement =
  { kind: 'ack' } | { kind: 'nak'; delayMs: number; reason: string } | { kind: 'dead-letter'; reason: string };

/** Delay before delivery `deliveryCount + 1`: base · 2^(deliveryCount−1), at most maxMs. */
export function retryDelayMs(deliveryCount: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const exponent = Math.max(0, Math.min(deliveryCount - 1, 30));
  return Math.min(policy.baseMs * 2 ** exponent, policy.maxMs);
}

function codedDisposition(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('disposition' in err)) return undefined;
  const d = (err as { disposition: unknown }).disposition;
  return typeof d === 'string' ? d : undefined;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return `non-error thrown: ${String(err)}`;
}

/**
 * The ack / nak / dead-letter rule, kept pure so it is tested without a server.
 * `error` is undefined when the handler resolved.
 */
export function settle(
  error: unknown,
  deliveryCount: number,
  maxDeliver: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): Settlement {
  if (error === undefined) return { kind: 'ack' };
  if (error instanceof PoisonMessageError) return { kind: 'dead-letter', reason: error.message };
  // A coded service error (libs/runtime ServiceError) says itself what a consumer does with it.
  const disposition = codedDisposition(error);
  if (disposition === 'dead-letter') return { kind: 'dead-letter', reason: describeError(error) };
  if (disposition === 'ack') return { kind: 'ack' };
  const reason = describeError(error);
  if (deliveryCount >= maxDeliver) {
    return { kind: 'dead-letter', reason: `gave up after ${deliveryCount} deliveries: ${reason}` };
  }
  const delayMs =
    error instanceof RetryableError && error.delayMs !== undefined
      ? Math.max(0, error.delayMs)
      : retryDelayMs(deliveryCount, policy);
  return { kind: 'nak', delayMs, reason };
}

/** What a batch handler did: resolved (with the messages it could not take), or threw. */
export type BatchResult =
  { kind: 'resolved'; failed?: ReadonlyMap<number, unknown> } | { kind: 'threw'; error: unknown };

/**
 * The settlement of each message of a batch, in order. Resolved: the messages not named in
 * `failed` were committed and are acked; a named one is settled by its own error, as `settle`
 * would for a single message. Threw: nothing was committed, so every message is nak'ed with the
 * backoff of its own delivery count, or dead-lettered once past maxDeliver. A PoisonMessageError
 * thrown for the whole batch is not taken as "every message is poison": one malformed message
 * must not take good ones with it, so the handler has to name it in `failed` instead.
 */
export function settleBatch(
  messages: ReadonlyArray<{ seq: number; deliveryCount: number }>,
  result: BatchResult,
  maxDeliver: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): Settlement[] {
  if (result.kind === 'resolved') {
    return messages.map((m) => {
      if (!result.failed?.has(m.seq)) return { kind: 'ack' };
      const error =
        result.failed.get(m.seq) ?? new Error(`batch handler reported message ${m.seq} as failed without an error`);
      return settle(error, m.deliveryCount, maxDeliver, policy);
    });
  }
  const error =
    result.error instanceof PoisonMessageError
      ? new Error(
          `${describeError(result.error)} (thrown for the whole batch; name the message in BatchOutcome.failed to dead-letter it alone)`,
        )
      : result.error;
  return messages.map((m) => settle(error, m.deliveryCount, maxDeliver, policy));
}
