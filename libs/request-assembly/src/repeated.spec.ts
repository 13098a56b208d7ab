import fc from 'fast-check';
import type { RequestEventKind } from '@arcwatch/contracts';
import { repeated, toAssemblyEvent, type AssemblyEvent } from './request-state';

const T0 = Date.parse('2025-06-01T00:00:00.000Z');

/** The definition: an incoming event repeats one whose id the state or an earlier incoming event has. */
function byId(known: readonly AssemblyEvent[], incoming: readonly AssemblyEvent[]): boolean[] {
  const ids = new Set(known.map((e) => e.eventId));
  return incoming.map((e) => ids.has(e.eventId) || !ids.add(e.eventId));
}

describe('repeated (duplicates among a request’s consumed events)', () => {
  const event = fc
    .record({
      kind: fc.constantFrom<RequestEventKind>('received', 'queued', 'first_token', 'completed'),
      at: fc.integer({ min: 0, max: 9 }),
    })
    .map((g) => toAssemblyEvent({ requestId: 'r', kind: g.kind, time: new Date(T0 + g.at).toISOString() }));

  it('agrees with the event ids, for a handful of events and for many', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), fc.array(event, { maxLength: 40 }), (known, incoming) => {
        const distinct = known.filter((e, i) => known.findIndex((k) => k.eventId === e.eventId) === i);
        expect(repeated(distinct, incoming)).toEqual(byId(distinct, incoming));
      }),
      { numRuns: 500 },
    );
  });

  it('tells a second copy in the same group, and one already stored', () => {
    const received = toAssemblyEvent({ requestId: 'r', kind: 'received', time: new Date(T0).toISOString() });
    const queued = toAssemblyEvent({ requestId: 'r', kind: 'queued', time: new Date(T0).toISOString() });
    const again = toAssemblyEvent({ requestId: 'r', kind: 'queued', time: new Date(T0).toISOString() });
    expect(repeated([received], [queued, again, received])).toEqual([false, true, true]);
  });
});
