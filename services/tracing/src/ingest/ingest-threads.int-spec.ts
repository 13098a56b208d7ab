import fc from 'fast-check';
import type { Worker } from 'node:worker_threads';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { EventBus } from '@arcwatch/messaging';
import { hashApiKey } from '@arcwatch/contracts';
import { authHeaders, createTestDatabase, testNamespace, type TestDatabase } from '@arcwatch/testing';
import { createTracingApp } from '../app';
import { KeyDirectoryHolder } from '../assembly/key-directory.provider';
import { closeTestSetup, readSubjects, testConfig } from '../testing/tracing-test-kit';
import { IngestThreads } from './ingest-threads';

/**
 * The batch route with its work on an ingest thread (TRACING_INGEST_THREADS=1, the default)
 * against the same route on the main thread (0): the same answer to every body, byte for byte,
 * and the same messages on JetStream.
 */
const SALT = 'integration-test-salt';
const T0 = Date.parse('2025-06-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

interface Side {
  db: TestDatabase;
  app: NestFastifyApplication;
  bus: EventBus;
  ns: string;
}

async function side(threads: string): Promise<Side> {
  const db = await createTestDatabase();
  const ns = testNamespace();
  const app = await createTracingApp({
    config: testConfig(db.url, ns, { TRACING_INGEST_THREADS: threads, TRACING_INGEST_EVENTS_PER_MESSAGE: '3' }),
    disableWorkerTimer: true,
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const bus = await EventBus.connect({ name: `ingest-threads-${threads}`, namespace: ns });
  return { db, app, bus, ns };
}

const post = (s: Side, payload: string | Buffer, contentType = 'application/json') =>
  s.app
    .getHttpAdapter()
    .getInstance()
    .inject({
      method: 'POST',
      url: '/api/v1/requests/events',
      payload,
      headers: { 'content-type': contentType, ...authHeaders() },
    });

const lifecycle = (requestId: string, extra: Record<string, unknown> = {}) => [
  { requestId, kind: 'received', time: at(0), model: 'llama-3-8b', ...extra },
  { requestId, kind: 'first_token', time: at(200) },
  { requestId, kind: 'completed', time: at(900), promptTokens: 10, completionTokens: 5 },
];

describe('ingest threads (NATS + Postgres)', () => {
  let main: Side;
  let threaded: Side;

  beforeAll(async () => {
    main = await side('0');
    threaded = await side('1');
  });
  afterAll(async () => {
    await closeTestSetup({ ...(main ?? {}) });
    await closeTestSetup({ ...(threaded ?? {}) });
  });

  it('runs the route on a thread only when configured', () => {
    expect(main.app.get(IngestThreads).enabled).toBe(false);
    expect(threaded.app.get(IngestThreads).enabled).toBe(true);
  });

  const bodies: Array<[string, string]> = [
    [
      'events with a raw key, a hashed key and a tenant',
      JSON.stringify({
        events: [
          ...lifecycle('r-1', { apiKey: 'sk-1' }),
          ...lifecycle('r-2', { apiKeyHash: hashApiKey('sk-2', SALT) }),
          ...lifecycle('r-3', { tenant: 'acme' }),
        ],
      }),
    ],
    [
      'a CloudEvent-wrapped event',
      JSON.stringify({
        events: [
          {
            specversion: '1.0',
            id: 'x',
            source: 's',
            type: 'io.arcwatch.requests.event.v1',
            data: lifecycle('r-4')[0],
          },
        ],
      }),
    ],
    [
      'good and bad items together',
      JSON.stringify({ events: [lifecycle('r-5')[0], { requestId: '', kind: 'nope' }, 7, null, lifecycle('r-5')[2]] }),
    ],
    ['no events at all', JSON.stringify({ events: [] })],
    ['events that are not a list', JSON.stringify({ events: 'x' })],
    ['a list', '[]'],
    ['null', 'null'],
    ['a string', '"events"'],
    ['too many events', JSON.stringify({ events: Array.from({ length: 10_001 }, () => ({})) })],
    ['text that is not JSON', '{"events": ['],
    ['a word', 'nope'],
    ['a prototype key', '{"__proto__": {"polluted": true}, "events": []}'],
    ['a constructor key', '{"constructor": {"prototype": {"polluted": true}}, "events": []}'],
    ['a NUL escape', '{"events": [{"requestId": "a\\u0000", "kind": "received", "time": "2025-06-01T12:00:00.000Z"}]}'],
    [
      'a lone surrogate',
      '{"events": [{"requestId": "\\ud800", "kind": "received", "time": "2025-06-01T12:00:00.000Z"}]}',
    ],
    ['an empty body', ''],
    // Past a few KB, Fastify's body has an ArrayBuffer of its own, which is moved to the thread;
    // the thread gives the bytes back when the main thread has to word the error.
    [
      'a large body that is not JSON',
      JSON.stringify({ events: Array.from({ length: 400 }, (_, i) => lifecycle(`big-${i}`)[0]) }).slice(0, -1),
    ],
    [
      'a large body with a prototype key',
      `{"__proto__": {"polluted": true}, "events": ${JSON.stringify(Array.from({ length: 400 }, (_, i) => lifecycle(`big-${i}`)[0]))}}`,
    ],
  ];

  it.each(bodies)('answers %s as the main thread does', async (_what, body) => {
    const [a, b] = [await post(main, body), await post(threaded, body)];
    expect({ status: b.statusCode, body: b.body }).toEqual({ status: a.statusCode, body: a.body });
    expect(b.statusCode).toBeLessThan(500);
  });

  it('answers generated bodies as the main thread does', async () => {
    const item = fc.record(
      {
        requestId: fc.oneof(fc.string(), fc.constant('g-1')),
        kind: fc.constantFrom('received', 'queued', 'first_token', 'completed', 'failed', 'bogus'),
        time: fc.oneof(fc.constant(at(5)), fc.string(), fc.integer()),
        tenant: fc.string(),
        apiKey: fc.string(),
        promptTokens: fc.oneof(fc.integer(), fc.double()),
      },
      { requiredKeys: ['requestId'] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ events: fc.array(item, { maxLength: 6 }) }).map((j) => JSON.stringify(j)),
          fc.json(),
          fc.string(),
        ),
        async (body) => {
          const [a, b] = [await post(main, body), await post(threaded, body)];
          expect({ status: b.statusCode, body: b.body }).toEqual({ status: a.statusCode, body: a.body });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('publishes the same messages as the main thread', async () => {
    const body = JSON.stringify({
      events: [...lifecycle('same-1', { apiKey: 'sk-9' }), ...lifecycle('same-2', { tenant: 'globex' })],
    });
    expect((await post(main, body)).statusCode).toBe(202);
    expect((await post(threaded, body)).statusCode).toBe(202);
    // The batch message's CloudEvent `time` is when it was made; everything else is the same.
    const stored = async (s: Side) =>
      (
        await readSubjects<{ time: string; data: { events: Array<{ requestId: string }> } }>(
          s.bus,
          'requests',
          'aw.requests.v1.events.',
        )
      )
        .filter((m) => m.body.data.events?.some((e) => e.requestId.startsWith('same-')))
        .map((m) => ({ subject: m.subject, body: { ...m.body, time: undefined } }));
    const published = await stored(threaded);
    expect(published.map((m) => m.subject)).toEqual([
      'aw.requests.v1.events.unknown',
      'aw.requests.v1.events.unknown',
      'aw.requests.v1.events.globex',
    ]);
    expect(published).toEqual(await stored(main));
  });

  it('packs by the API-key mapping in force, after it is replaced', async () => {
    const hash = hashApiKey('sk-mapped', SALT);
    threaded.app.get(KeyDirectoryHolder).replace([{ keyHash: hash, tenant: 'initech' }]);
    const res = await post(threaded, JSON.stringify({ events: [lifecycle('mapped-1', { apiKey: 'sk-mapped' })[0]] }));
    expect(res.statusCode).toBe(202);
    const messages = await readSubjects<{ data: { events: Array<{ requestId: string }> } }>(
      threaded.bus,
      'requests',
      'aw.requests.v1.events.initech',
    );
    expect(messages.flatMap((m) => m.body.data.events.map((e) => e.requestId))).toEqual(['mapped-1']);
  });

  it('starts a thread that ended again, answering 503 (never a loss) until it is back', async () => {
    const threads = threaded.app.get(IngestThreads) as unknown as { members: Array<{ worker: Worker } | undefined> };
    const before = threads.members[0]?.worker;
    await before?.terminate();
    const statuses: number[] = [];
    const body = JSON.stringify({ events: [lifecycle('again-1')[0]] });
    for (let i = 0; i < 200; i++) {
      const res = await post(threaded, body);
      statuses.push(res.statusCode);
      if (res.statusCode === 202) break;
      expect(res.json()).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(statuses.at(-1)).toBe(202);
    expect(threads.members[0]?.worker).not.toBe(before);
  });
});
