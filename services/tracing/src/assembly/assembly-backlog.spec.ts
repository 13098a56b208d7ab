import type { ConsumerBacklog, ConsumerHandle } from '@arcwatch/messaging';
import { AssemblyBacklog } from './assembly-backlog';

const handleWith = (b: ConsumerBacklog): ConsumerHandle => ({
  stream: 'requests',
  durable: 'd',
  stop: async () => undefined,
  backlog: () => b,
});

describe('assembly backlog', () => {
  it('is unknown until the consumer took a message, then caught up only with nothing undelivered, in flight or awaiting redelivery', () => {
    const backlog = new AssemblyBacklog();
    expect(backlog.caughtUp()).toBeUndefined();
    backlog.attach(handleWith({ undelivered: undefined, inFlight: 0, awaitingRedelivery: 0, lastTakenAt: undefined }));
    expect(backlog.caughtUp()).toBeUndefined();
    const at = new Date();
    backlog.attach(handleWith({ undelivered: 0, inFlight: 0, awaitingRedelivery: 0, lastTakenAt: at }));
    expect(backlog.caughtUp()).toBe(true);
    for (const b of [
      { undelivered: 3, inFlight: 0, awaitingRedelivery: 0 },
      { undelivered: 0, inFlight: 12, awaitingRedelivery: 0 },
      { undelivered: 0, inFlight: 0, awaitingRedelivery: 1 },
    ]) {
      backlog.attach(handleWith({ ...b, lastTakenAt: at }));
      expect(backlog.caughtUp()).toBe(false);
    }
  });
});
