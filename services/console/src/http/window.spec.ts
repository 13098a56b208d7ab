import { parseTime, parseWindow } from './window';

describe('time windows', () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  it('reads RFC 3339 and Unix seconds', () => {
    expect(parseTime('2026-12-03T13:00:00+01:00', 'from')).toBe(now);
    expect(parseTime(String(now / 1000), 'from')).toBe(now);
    expect(parseTime('1796299200.5', 'from')).toBe(1796299200500);
  });
  it('defaults to the last hour and refuses inverted or too long windows', () => {
    expect(parseWindow({}, now)).toEqual({ fromMs: now - 3_600_000, toMs: now });
    expect(() => parseWindow({ from: '2026-12-03T12:00:00Z', to: '2026-12-03T11:00:00Z' }, now)).toThrow(
      'from: must be before to',
    );
    expect(() => parseWindow({ from: '2026-10-01T00:00:00Z' }, now)).toThrow('31 days');
    expect(() => parseWindow({ from: 'yesterday' }, now)).toThrow('from: not a time');
  });
});
