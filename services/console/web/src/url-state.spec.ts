import { nextDelay, parseParams, toSearch, viewOf, windowOf } from './url-state';

describe('console URL state', () => {
  it('round-trips the query string in a stable order', () => {
    const p = parseParams('?tenant=acme&view=requests&range=6h&empty=');
    expect(p).toEqual({ tenant: 'acme', view: 'requests', range: '6h' });
    expect(toSearch(p)).toBe('?view=requests&range=6h&tenant=acme');
    expect(toSearch({})).toBe('');
    expect(viewOf({ view: 'nope' })).toBe('fleet');
  });

  it('turns a named range into a window ending now or at `to`', () => {
    const now = Date.parse('2026-12-03T12:00:00Z');
    expect(windowOf({ range: '15m' }, now)).toEqual({
      from: '2026-12-03T11:45:00.000Z',
      to: '2026-12-03T12:00:00.000Z',
      rangeMs: 900_000,
    });
    expect(windowOf({ range: 'bogus', to: '2026-12-03T10:00:00Z' }, now).from).toBe('2026-12-03T09:00:00.000Z');
  });

  it('backs off after failures, capped at five minutes', () => {
    expect(nextDelay(10_000, 0)).toBe(10_000);
    expect(nextDelay(10_000, 3)).toBe(80_000);
    expect(nextDelay(30_000, 9)).toBe(300_000);
    expect(nextDelay(0, 2)).toBe(0);
  });
});
