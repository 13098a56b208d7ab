import pino from 'pino';
import type { EventBus } from '@arcwatch/messaging';
import { ManualClock } from '@arcwatch/runtime';
import { ACKED_BEFORE_MIN_ASK_MS, AckedBefore } from './acked-before';

/** The asking policy; what the server answers is covered by held-events.int-spec.ts. */
describe('AckedBefore', () => {
  const T = Date.UTC(2026, 11, 5, 12);

  function setup(answers: Array<Date | undefined | Error>) {
    const clock = new ManualClock(T);
    let asks = 0;
    const bus = {
      oldestUnackedAt: async () => {
        const a = answers[Math.min(asks++, answers.length - 1)];
        if (a instanceof Error) throw a;
        return a;
      },
    } as unknown as EventBus;
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    return { clock, acked: new AckedBefore(bus, clock, logger), asks: () => asks, warnings };
  }

  it('answers the oldest unacked message, or the time it asked when nothing is unacked', async () => {
    const s = setup([new Date(T - 5_000), undefined]);
    expect(await s.acked.ms(T - 10_000)).toBe(T - 5_000);
    await s.clock.advance(ACKED_BEFORE_MIN_ASK_MS);
    expect(await s.acked.ms(T)).toBe(T + ACKED_BEFORE_MIN_ASK_MS);
    expect(s.asks()).toBe(2);
  });

  it('does not ask again while the last answer covers the deadline, nor sooner than the least interval', async () => {
    const s = setup([new Date(T - 5_000), new Date(T - 1_000)]);
    await s.acked.ms(T - 6_000);
    await s.clock.advance(10_000);
    expect(await s.acked.ms(T - 6_000)).toBe(T - 5_000); // covered: no ask, however old
    expect(s.asks()).toBe(1);
    const t1 = s.clock.now();
    expect(await s.acked.ms(T - 2_000)).toBe(T - 1_000); // not covered: asked
    await s.clock.advance(ACKED_BEFORE_MIN_ASK_MS - 1);
    expect(await s.acked.ms(T)).toBe(T - 1_000); // not covered, but asked too recently
    expect([s.asks(), s.clock.now() - t1]).toEqual([2, ACKED_BEFORE_MIN_ASK_MS - 1]);
  });

  it('when the server cannot be asked, lets nothing newer through and warns once', async () => {
    const down = new Error('TIMEOUT');
    const s = setup([down, down, new Date(T - 2_000), down]);
    expect(await s.acked.ms(T - 60_000)).toBe(-Infinity);
    await s.clock.advance(ACKED_BEFORE_MIN_ASK_MS);
    expect(await s.acked.ms(T - 60_000)).toBe(-Infinity);
    expect(s.warnings).toHaveLength(1);
    await s.clock.advance(ACKED_BEFORE_MIN_ASK_MS);
    expect(await s.acked.ms(T - 60_000)).toBe(T - 2_000);
    await s.clock.advance(ACKED_BEFORE_MIN_ASK_MS);
    expect(await s.acked.ms(T)).toBe(T - 2_000); // down again: the last answer stands
    expect([s.asks(), s.warnings.length]).toEqual([4, 2]);
  });
});
