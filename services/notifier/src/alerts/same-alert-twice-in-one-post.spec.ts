import { oncePerFingerprint } from './alerts.service';

describe('the same label set twice in one body', () => {
  it('is stored once, as if applied in order: the later fields, the earliest start', () => {
    const at = (m: number) => new Date(Date.UTC(2026, 11, 4, 5, m));
    const stored = oncePerFingerprint([
      { fingerprint: 'a', startsAt: at(0), endsAt: at(60), annotations: { summary: 'first' } },
      { fingerprint: 'b', startsAt: at(1), endsAt: null, annotations: { summary: 'other' } },
      { fingerprint: 'a', startsAt: at(5), endsAt: at(90), annotations: { summary: 'second' } },
    ]);
    expect(stored).toEqual([
      { fingerprint: 'a', startsAt: at(0), endsAt: at(90), annotations: { summary: 'second' } },
      { fingerprint: 'b', startsAt: at(1), endsAt: null, annotations: { summary: 'other' } },
    ]);
  });
});
