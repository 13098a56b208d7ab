import { hashApiKey } from './api-key-hash';
import { requestCompletedId } from './request-completed.v1';
import { requestEventId, requestEventInputSchema, requestEventV1Schema } from './request-event.v1';

const base = { requestId: 'r-1', kind: 'received', time: '2025-06-01T12:00:00.000+00:00' } as const;

describe('request event contract', () => {
  it('refuses a raw API key on the published event, and accepts it only at the ingest boundary', () => {
    const r = requestEventV1Schema.safeParse({ ...base, apiKey: 'sk-1' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].path).toEqual(['apiKey']);
    expect(requestEventInputSchema.safeParse({ ...base, apiKey: 'sk-1' }).success).toBe(true);
    expect(
      requestEventInputSchema.safeParse({
        ...base,
        apiKey: 'sk-1',
        apiKeyHash: hashApiKey('sk-1', 'sixteen-chars-salt'),
      }).success,
    ).toBe(false);
  });

  it('gives the same id to the same instant written with another offset, and another id to another phase', () => {
    expect(requestEventId(base)).toBe(requestEventId({ ...base, time: '2025-06-01T14:00:00.000+02:00' }));
    expect(requestEventId(base)).not.toBe(requestEventId({ ...base, kind: 'queued' }));
    expect(requestCompletedId('r-1')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('hashes keys with the salt: same key and salt, same hash; another salt, another hash', () => {
    const h = hashApiKey('sk-1', 'sixteen-chars-salt');
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey('sk-1', 'sixteen-chars-salt')).toBe(h);
    expect(hashApiKey('sk-1', 'another-salt-16ch')).not.toBe(h);
    expect(() => hashApiKey('sk-1', 'short')).toThrow(RangeError);
  });
});
