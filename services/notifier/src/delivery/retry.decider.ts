/**
 * When to try a delivery again: 2xx is done; 429 waits what Retry-After says (seconds or an HTTP
 * date), else the backoff; 5xx, timeouts and connection errors back off exponentially; any other
 * 4xx is refused for good (the same body would be refused again). Pure, time passed in.
 */
export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 60_000 };

export type AttemptOutcome =
  { kind: 'http'; status: number; retryAfter?: string | null; body?: string } | { kind: 'error'; message: string };

export type RetryDecision =
  { action: 'done' } | { action: 'retry'; delayMs: number; reason: string } | { action: 'fail'; reason: string };

export function retryAfterMs(header: string | null | undefined, now: Date): number | undefined {
  if (!header) return undefined;
  const t = header.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const when = Date.parse(t);
  return Number.isNaN(when) ? undefined : Math.max(0, when - now.getTime());
}

export function backoffMs(attempt: number, p: RetryPolicy): number {
  return Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.max(0, attempt - 1));
}

export function describeOutcome(o: AttemptOutcome): string {
  return o.kind === 'error' ? o.message : `HTTP ${o.status}${o.body ? `: ${o.body.slice(0, 200)}` : ''}`;
}

/** `attempt` is the 1-based number of the attempt that just ended. */
export function decideRetry(o: AttemptOutcome, attempt: number, p: RetryPolicy, now: Date): RetryDecision {
  if (o.kind === 'http' && o.status >= 200 && o.status < 300) return { action: 'done' };
  const reason = describeOutcome(o);
  const retryable = o.kind === 'error' || o.status === 429 || o.status === 408 || o.status >= 500;
  if (!retryable) return { action: 'fail', reason };
  if (attempt >= p.maxAttempts) return { action: 'fail', reason: `${reason} (after ${attempt} attempts)` };
  const hinted = o.kind === 'http' && o.status === 429 ? retryAfterMs(o.retryAfter, now) : undefined;
  // A Retry-After beyond our longest wait is honoured up to that cap; the next 429 says again.
  return { action: 'retry', delayMs: Math.min(p.maxDelayMs, hinted ?? backoffMs(attempt, p)), reason };
}
