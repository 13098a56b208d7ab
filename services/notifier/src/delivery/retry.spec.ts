import { backoffMs, decideRetry, retryAfterMs, type RetryPolicy } from './retry.decider';

const P: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 5000 };
const now = new Date('2026-12-03T10:00:00Z');

describe('retry decisions', () => {
  it('is done on 2xx (PagerDuty answers 202)', () => {
    expect(decideRetry({ kind: 'http', status: 202 }, 1, P, now)).toEqual({ action: 'done' });
  });

  it('gives up at once on a 400: the same body would be refused again', () => {
    expect(decideRetry({ kind: 'http', status: 400, body: 'Invalid routing key' }, 1, P, now)).toEqual({
      action: 'fail',
      reason: 'HTTP 400: Invalid routing key',
    });
  });

  it('backs off exponentially on 5xx and errors, up to the cap, then fails', () => {
    expect(decideRetry({ kind: 'http', status: 500 }, 1, P, now)).toMatchObject({ action: 'retry', delayMs: 100 });
    expect(decideRetry({ kind: 'error', message: 'timeout' }, 3, P, now)).toMatchObject({
      action: 'retry',
      delayMs: 400,
    });
    expect(decideRetry({ kind: 'http', status: 503 }, 4, P, now)).toEqual({
      action: 'fail',
      reason: 'HTTP 503 (after 4 attempts)',
    });
    expect(backoffMs(20, P)).toBe(5000);
  });

  it('waits what Retry-After says on 429, in seconds or as an HTTP date', () => {
    expect(decideRetry({ kind: 'http', status: 429, retryAfter: '2' }, 1, P, now)).toMatchObject({
      action: 'retry',
      delayMs: 2000,
    });
    expect(retryAfterMs('Thu, 03 Dec 2026 10:00:03 GMT', now)).toBe(3000);
    expect(decideRetry({ kind: 'http', status: 429, retryAfter: null }, 2, P, now)).toMatchObject({ delayMs: 200 });
    expect(decideRetry({ kind: 'http', status: 429, retryAfter: '3600' }, 1, P, now)).toMatchObject({ delayMs: 5000 });
  });
});
