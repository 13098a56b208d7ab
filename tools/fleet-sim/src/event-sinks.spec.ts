import { HttpEventSink } from './event-sinks';

describe('HttpEventSink', () => {
  const event = { requestId: 'r1', kind: 'received', time: '2026-01-05T12:00:00.000Z', tenant: 'acme' } as const;

  function recording(): { post: typeof fetch; calls: Array<{ url: string; headers: Record<string, string> }> } {
    const calls: Array<{ url: string; headers: Record<string, string> }> = [];
    const post = (async (url: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(url), headers: init?.headers as Record<string, string> });
      return new Response('{}', { status: 202 });
    }) as typeof fetch;
    return { post, calls };
  }

  it('sends the ingest token as a Bearer token when it has one, and nothing when it has not', async () => {
    const withToken = recording();
    const a = new HttpEventSink('http://tracing:8082', undefined, withToken.post, 'aw_ingest_123');
    a.push([event as never]);
    await a.flush();
    const without = recording();
    const b = new HttpEventSink('http://tracing:8082', undefined, without.post);
    b.push([event as never]);
    await b.flush();
    expect(withToken.calls.map((c) => [c.url, c.headers.authorization])).toEqual([
      ['http://tracing:8082/api/v1/requests/events', 'Bearer aw_ingest_123'],
    ]);
    expect(without.calls.map((c) => c.headers.authorization)).toEqual([undefined]);
    expect([a.stats.sent, b.stats.sent]).toEqual([1, 1]);
  });
});
