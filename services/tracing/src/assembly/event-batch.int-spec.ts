import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'pg';
import { EventBus } from '@arcwatch/messaging';
import { OutboxRelay } from '@arcwatch/outbox';
import { authHeaders, createTestDatabase, eventually, testNamespace, type TestDatabase } from '@arcwatch/testing';
import {
  EVENT_TYPES,
  REQUEST_COMPLETED_BATCH_V1,
  REQUEST_EVENT_BATCH_V1,
  SUBJECTS,
  cloudEvent,
  requestCompletedBatchId,
  requestEventBatchId,
  requestEventId,
  type CloudEvent,
  type DeadLetterV1,
  type RequestCompletedBatchV1,
  type RequestCompletedV1,
  type RequestEventV1,
} from '@arcwatch/contracts';
import { createTracingApp } from '../app';
import { closeTestSetup, readSubjects, testConfig } from '../testing/tracing-test-kit';

/**
 * Several events per JetStream message (io.arcwatch.requests.event-batch.v1): the HTTP ingest
 * packs them when TRACING_INGEST_EVENTS_PER_MESSAGE > 1, and the consumer reads both forms,
 * de-duplicating events across them by event id. Also the per-request state row: a request
 * whose events arrive in separate groups is folded into one row and assembled once.
 */
const T0 = Date.parse('2025-06-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function lifecycle(requestId: string, tenant = 'acme'): RequestEventV1[] {
  return [
    { requestId, kind: 'received', time: at(0), tenant, model: 'llama-3-8b', modelVersion: 'v1' },
    { requestId, kind: 'queued', time: at(5), tenant },
    { requestId, kind: 'scheduled', time: at(105), tenant, instance: 'vllm-0' },
    { requestId, kind: 'first_token', time: at(305), tenant },
    {
      requestId,
      kind: 'completed',
      time: at(1305),
      tenant,
      promptTokens: 100,
      completionTokens: 11,
      finishReason: 'stop',
    },
  ];
}

describe('event batches on JetStream (NATS + Postgres)', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let bus: EventBus;
  let pool: Pool;
  const ns = testNamespace();

  const http = (url: string, payload: unknown) =>
    app
      .getHttpAdapter()
      .getInstance()
      .inject({ method: 'POST', url, payload: payload as object, headers: authHeaders() });
  const records = async (prefix: string) =>
    (
      await pool.query<{ record: RequestCompletedV1 }>(
        `SELECT record FROM tracing.requests WHERE request_id LIKE $1 ORDER BY request_id`,
        [`${prefix}%`],
      )
    ).rows.map((r) => r.record);
  const counter = async (name: string) => {
    const body = (
      await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/metrics', headers: authHeaders() })
    ).body;
    return Number(new RegExp(`arcwatch_tracing_${name}_total (\\d+)`).exec(body)?.[1] ?? 0);
  };
  const batchEvent = (events: RequestEventV1[]) =>
    cloudEvent({ id: requestEventBatchId(events), type: REQUEST_EVENT_BATCH_V1, source: 'test', data: { events } });

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url });
    app = await createTracingApp({
      config: testConfig(db.url, ns, {
        TRACING_INGEST_EVENTS_PER_MESSAGE: '4',
        TRACING_COMPLETED_PER_MESSAGE: '2',
        // No periodic pass (no relay) during a test: what is published, the consumer published.
        TRACING_ASSEMBLY_INTERVAL_MS: '600000',
      }),
      disableWorkerTimer: true,
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    bus = await EventBus.connect({ name: 'tracing-batch-test', namespace: ns });
  });

  afterAll(() => closeTestSetup({ app, bus, pool, db }));

  it('packs HTTP events per tenant into batch messages, and assembles them; the same POST again changes nothing', async () => {
    const events = [...lifecycle('pack-1', 'acme'), ...lifecycle('pack-2', 'globex'), ...lifecycle('pack-3', 'acme')];
    const res = await http('/api/v1/requests/events', { events });
    expect([res.statusCode, res.json().accepted]).toEqual([202, 15]);
    const messages = await readSubjects<CloudEvent<{ events: RequestEventV1[] }>>(
      bus,
      'requests',
      'aw.requests.v1.events.',
    );
    // acme: 10 events in messages of 4, 4, 2; globex: 5 in 4, 1 (published concurrently: any order).
    expect(messages.map((m) => [m.subject, m.body.type, m.body.data.events.length]).sort()).toEqual([
      [SUBJECTS.requestEvents('acme'), REQUEST_EVENT_BATCH_V1, 2],
      [SUBJECTS.requestEvents('acme'), REQUEST_EVENT_BATCH_V1, 4],
      [SUBJECTS.requestEvents('acme'), REQUEST_EVENT_BATCH_V1, 4],
      [SUBJECTS.requestEvents('globex'), REQUEST_EVENT_BATCH_V1, 1],
      [SUBJECTS.requestEvents('globex'), REQUEST_EVENT_BATCH_V1, 4],
    ]);
    await eventually(
      async () => ((await records('pack-')).length === 3 ? true : undefined),
      10_000,
      'three requests assembled',
    );
    expect((await records('pack-')).map((r) => [r.requestId, r.tenant, r.ttftMs, r.e2eMs, r.missingPhases])).toEqual([
      ['pack-1', 'acme', 305, 1305, []],
      ['pack-2', 'globex', 305, 1305, []],
      ['pack-3', 'acme', 305, 1305, []],
    ]);

    const again = await http('/api/v1/requests/events', { events });
    expect(again.statusCode).toBe(202);
    expect(await readSubjects(bus, 'requests', 'aw.requests.v1.events.')).toHaveLength(5); // same message ids: dropped by JetStream
    // Each event went to its own tenant's subject.
    const acme = messages
      .filter((m) => m.subject === SUBJECTS.requestEvents('acme'))
      .flatMap((m) => m.body.data.events);
    expect(acme.map((e) => e.requestId).sort()).toEqual([...Array(5).fill('pack-1'), ...Array(5).fill('pack-3')]);

    // The assembled requests go out batched per tenant too (at most 2 per message here), each
    // record exactly what was projected, and each request in one message: published after each
    // commit from the bytes queued, with no relay pass, and gone from the outbox.
    const completed = await eventually(
      async () => {
        const found = await readSubjects<CloudEvent<RequestCompletedBatchV1>>(
          bus,
          'requests',
          'aw.requests.v1.completed.',
        );
        return found.flatMap((m) => m.body.data.records).length === 3 ? found : undefined;
      },
      10_000,
      'the three requests published',
    );
    await app.get(OutboxRelay).settled();
    expect((await pool.query('SELECT event_id FROM tracing.outbox')).rows).toEqual([]);
    // (How the requests split into transactions depends on how the consumer grouped the messages.)
    for (const m of completed) {
      expect(m.body.type).toBe(REQUEST_COMPLETED_BATCH_V1);
      expect(m.body.data.records.length).toBeLessThanOrEqual(2);
      expect(m.body.id).toBe(requestCompletedBatchId(m.body.data.records));
      expect(m.body.data.records.every((r) => SUBJECTS.requestCompleted(r.tenant) === m.subject)).toBe(true);
    }
    const carried = completed.flatMap((m) => m.body.data.records);
    expect(carried.map((r) => r.requestId).sort()).toEqual(['pack-1', 'pack-2', 'pack-3']);
    expect(carried.sort((a, b) => a.requestId.localeCompare(b.requestId))).toEqual(await records('pack-'));
  });

  it('folds events of one request arriving in separate groups, in either form, into one record; duplicates across forms count once', async () => {
    const [received, queued, scheduled, firstToken, completed] = lifecycle('split-1');
    const single = (e: RequestEventV1, n = 0) =>
      cloudEvent({ id: `${requestEventId(e)}-${n}`, type: EVENT_TYPES.requestEvent, source: 'test', data: e });
    const duplicatesBefore = await counter('events_duplicate');

    await bus.publish(SUBJECTS.requestEvents('acme'), batchEvent([received, scheduled]));
    await eventually(
      async () =>
        (await pool.query(`SELECT 1 FROM tracing.open_requests WHERE request_id = 'split-1'`)).rowCount === 1
          ? true
          : undefined,
      10_000,
      'split-1 open',
    );
    await bus.publish(SUBJECTS.requestEvents('acme'), single(queued));
    await bus.publish(SUBJECTS.requestEvents('acme'), single(received, 1)); // the same event again, another message
    await bus.publish(SUBJECTS.requestEvents('acme'), batchEvent([firstToken, completed, scheduled]));

    await eventually(
      async () => ((await records('split-')).length === 1 ? true : undefined),
      10_000,
      'split-1 assembled',
    );
    const [record] = await records('split-');
    expect(record).toMatchObject({ status: 'completed', queueMs: 100, ttftMs: 305, e2eMs: 1305, missingPhases: [] });
    expect(record.timeline.map((t) => t.kind)).toEqual(['received', 'queued', 'scheduled', 'first_token', 'completed']);
    expect(await counter('events_duplicate')).toBe(duplicatesBefore + 2);
    expect((await pool.query(`SELECT 1 FROM tracing.open_requests WHERE request_id = 'split-1'`)).rowCount).toBe(0);
  });

  it('commits a group whose requests end in two different minutes (the counters of one label set are summed first)', async () => {
    const shifted = (id: string, byMs: number) =>
      lifecycle(id).map((e) => ({ ...e, time: new Date(Date.parse(e.time) + byMs).toISOString() }));
    await bus.publish(
      SUBJECTS.requestEvents('acme'),
      batchEvent([...shifted('minutes-1', 0), ...shifted('minutes-2', 60_000)]),
    );
    await eventually(
      async () => ((await records('minutes-')).length === 2 ? true : undefined),
      10_000,
      'both requests assembled in one transaction',
    );
    const minutes = await pool.query<{ minute: Date }>(
      `SELECT DISTINCT minute FROM tracing.minute_stats WHERE tenant = 'acme' ORDER BY minute`,
    );
    expect(minutes.rows.map((r) => r.minute.getTime())).toEqual([T0, T0 + 60_000]);
  });

  it('dead-letters a batch message with an invalid event whole, and commits the rest of its group', async () => {
    const good = lifecycle('poison-neighbour');
    const bad = { ...lifecycle('poison-1')[0], kind: 'started' } as unknown as RequestEventV1;
    await bus.publishMany([
      { subject: SUBJECTS.requestEvents('acme'), event: batchEvent([lifecycle('poison-1')[1], bad]) },
      { subject: SUBJECTS.requestEvents('acme'), event: batchEvent(good) },
    ]);
    await eventually(
      async () => ((await records('poison-neighbour')).length === 1 ? true : undefined),
      10_000,
      'the good batch assembled',
    );
    const dead = await eventually(
      async () => {
        const d = await readSubjects<CloudEvent<DeadLetterV1>>(bus, 'deadLetter', 'aw.dlq.');
        return d.length === 1 ? d : undefined;
      },
      10_000,
      'the bad batch dead-lettered',
    );
    expect(dead[0].body.data.reason).toMatch(/invalid io\.arcwatch\.requests\.event-batch\.v1 data: events\.1\.kind/);
    expect((await pool.query(`SELECT 1 FROM tracing.open_requests WHERE request_id = 'poison-1'`)).rowCount).toBe(0);
  });
});
