import { PoisonMessageError, RetryableError } from './errors';
import { retryDelayMs, settle, settleBatch } from './retry-policy';

const policy = { baseMs: 100, maxMs: 1_000 };

describe('retryDelayMs', () => {
  it('doubles with every delivery and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, policy))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('does not overflow for absurd delivery counts', () => {
    expect(retryDelayMs(10_000, policy)).toBe(1_000);
  });
});

describe('settle', () => {
  it('acks when the handler resolved', () => {
    expect(settle(undefined, 1, 5, policy)).toEqual({ kind: 'ack' });
  });

  it('dead-letters a poison message on its first delivery, with its reason', () => {
    expect(settle(new PoisonMessageError('data.samples: required'), 1, 5, policy)).toEqual({
      kind: 'dead-letter',
      reason: 'data.samples: required',
    });
  });

  it('naks an ordinary failure with the backoff for its delivery count', () => {
    expect(settle(new Error('db down'), 3, 5, policy)).toEqual({ kind: 'nak', delayMs: 400, reason: 'Error: db down' });
  });

  it('honours the delay a RetryableError asks for', () => {
    expect(settle(new RetryableError('rate limited', 2_500), 1, 5, policy)).toMatchObject({
      kind: 'nak',
      delayMs: 2_500,
    });
  });

  it('uses the backoff when a RetryableError gives no delay', () => {
    expect(settle(new RetryableError('busy'), 2, 5, policy)).toMatchObject({ kind: 'nak', delayMs: 200 });
  });

  it('dead-letters at maxDeliver, naming the count and the last error', () => {
    const s = settle(new RetryableError('still down'), 5, 5, policy);
    expect(s).toEqual({ kind: 'dead-letter', reason: 'gave up after 5 deliveries: RetryableError: still down' });
  });

  it('describes a thrown non-Error value', () => {
    expect(settle('boom', 1, 5, policy)).toMatchObject({ kind: 'nak', reason: 'non-error thrown: boom' });
  });
});

describe('settleBatch', () => {
  const batch = [
    { seq: 10, deliveryCount: 1 },
    { seq: 11, deliveryCount: 1 },
    { seq: 12, deliveryCount: 5 },
  ];

  it('acks every message of a batch that resolved without failures', () => {
    expect(settleBatch(batch, { kind: 'resolved' }, 5, policy)).toEqual([
      { kind: 'ack' },
      { kind: 'ack' },
      { kind: 'ack' },
    ]);
  });

  it('dead-letters the poison message it names, naks the retryable one, and acks the rest', () => {
    const failed = new Map<number, unknown>([
      [11, new PoisonMessageError('aw.x#11: body is not JSON')],
      [10, new RetryableError('tenant directory busy', 700)],
    ]);
    expect(settleBatch(batch, { kind: 'resolved', failed }, 5, policy)).toEqual([
      { kind: 'nak', delayMs: 700, reason: 'RetryableError: tenant directory busy' },
      { kind: 'dead-letter', reason: 'aw.x#11: body is not JSON' },
      { kind: 'ack' },
    ]);
  });

  it('naks every message of a batch that threw, each with its own backoff, and dead-letters those at maxDeliver', () => {
    expect(settleBatch(batch, { kind: 'threw', error: new Error('deadlock detected') }, 5, policy)).toEqual([
      { kind: 'nak', delayMs: 100, reason: 'Error: deadlock detected' },
      { kind: 'nak', delayMs: 100, reason: 'Error: deadlock detected' },
      { kind: 'dead-letter', reason: 'gave up after 5 deliveries: Error: deadlock detected' },
    ]);
  });

  it('does not dead-letter a whole batch at once for a PoisonMessageError thrown instead of returned', () => {
    const s = settleBatch(batch.slice(0, 1), { kind: 'threw', error: new PoisonMessageError('bad data') }, 5, policy);
    expect(s).toEqual([
      {
        kind: 'nak',
        delayMs: 100,
        reason: expect.stringMatching(/^Error: PoisonMessageError: bad data \(thrown for the whole batch/),
      },
    ]);
  });

  it('treats a message named without an error as failed, not as committed', () => {
    expect(settleBatch(batch.slice(0, 1), { kind: 'resolved', failed: new Map([[10, undefined]]) }, 5, policy)).toEqual(
      [{ kind: 'nak', delayMs: 100, reason: 'Error: batch handler reported message 10 as failed without an error' }],
    );
  });
});

describe('coded service errors', () => {
  it('follow their disposition: dead-letter at once, ack as done, nak otherwise', () => {
    const coded = (disposition: string) => Object.assign(new Error('x'), { code: 'C', disposition });
    expect(settle(coded('dead-letter'), 1, 5).kind).toBe('dead-letter');
    expect(settle(coded('ack'), 1, 5)).toEqual({ kind: 'ack' });
    expect(settle(coded('nak'), 1, 5).kind).toBe('nak');
  });
});
