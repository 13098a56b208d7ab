import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { EventBus } from '@arcwatch/messaging';
import { authHeaders, createTestDatabase, eventually, testNamespace, type TestDatabase } from '@arcwatch/testing';
import {
  EVENT_TYPES,
  SUBJECTS,
  cloudEvent,
  hashApiKey,
  requestEventId,
  type CloudEvent,
  type MetricsBatchV1,
  type RequestCompletedV1,
  type RequestEventV1,
} from '@arcwatch/contracts';
import { Pool } from 'pg';
import { createTracingApp } from './app';
import { AssemblyWorker } from './assembly/assembly.worker';
import { encodeOtlpRequest } from './otlp/otlp-trace.proto';
import { closeTestSetup, readSubjects, subjectCounts, testConfig } from './testing/tracing-test-kit';
import { CLOCK } from '@arcwatch/runtime';
import { ALERT_CONTEXT_SUBJECTS } from '@arcwatch/contracts';
import { TestClock } from '@arcwatch/testing';

const T0 = Date.parse('2025-06-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function lifecycle(requestId: string, extra: Partial<RequestEventV1> = {}): Array<Record<string, unknown>> {
  return [
    {
      requestId,
      kind: 'received',
      time: at(0),
      model: 'llama-3-8b',
      modelVersion: 'v1',
      apiKey: 'sk-acme-1',
      ...extra,
    },
    { requestId, kind: 'queued', time: at(5) },
    { requestId, kind: 'scheduled', time: at(105), instance: 'vllm-0', gpuUuids: ['GPU-1'] },
    { requestId, kind: 'first_token', time: at(305) },
    { requestId, kind: 'completed', time: at(1305), promptTokens: 100, completionTokens: 11, finishReason: 'stop' },
  ];
}

describe('tracing service (NATS + Postgres)', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let bus: EventBus;
  let pool: Pool;
  let clock: TestClock;
  const ns = testNamespace();

  const http = (method: 'GET' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    app
      .getHttpAdapter()
      .getInstance()
      .inject({
        method,
        url,
        payload: payload as string | Buffer | object | undefined,
        headers: { ...authHeaders(), ...headers },
      });

  const pass = () => app.get(AssemblyWorker).runOnce();
  const openRequests = async () =>
    Number((await pool.query('SELECT count(*) AS n FROM tracing.open_requests')).rows[0].n);
  // A request whose every phase is in is assembled by the consumer's own transaction.
  const assembled = async (id: string) =>
    Number((await pool.query('SELECT count(*) AS n FROM tracing.requests WHERE request_id = $1', [id])).rows[0].n);

  const otlpPayload = (id: string, contentType: string) => ({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.instance.id', value: { stringValue: 'vllm-1' } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: '5b8efff798038103d269b633813fc60c',
                spanId: contentType.endsWith('json') ? 'eee19b7ec3c1b174' : 'eee19b7ec3c1b175',
                name: 'llm_request',
                startTimeUnixNano: String(BigInt(T0) * 1_000_000n),
                endTimeUnixNano: String(BigInt(T0 + 2_000) * 1_000_000n),
                attributes: [
                  { key: 'gen_ai.request.id', value: { stringValue: id } },
                  { key: 'gen_ai.response.model', value: { stringValue: 'qwen2.5-0.5b' } },
                  { key: 'gen_ai.usage.prompt_tokens', value: { intValue: '20' } },
                  { key: 'gen_ai.usage.completion_tokens', value: { intValue: '21' } },
                  { key: 'gen_ai.latency.time_in_queue', value: { doubleValue: 0.05 } },
                  { key: 'gen_ai.latency.time_to_first_token', value: { doubleValue: 0.25 } },
                  { key: 'gen_ai.latency.time_in_model_prefill', value: { doubleValue: 0.15 } },
                  { key: 'gen_ai.latency.e2e', value: { doubleValue: 2.25 } },
                ],
              },
            ],
          },
        ],
      },
    ],
  });

  const otlpEncodings: Array<[string, (p: unknown) => string | Buffer]> = [
    ['application/json', (p: unknown) => JSON.stringify(p)],
    ['application/x-protobuf', (p: unknown) => Buffer.from(encodeOtlpRequest(p))],
  ];

  /**
   * The data the read tests look at (http-1 over HTTP, one OTLP request per encoding), sent
   * again by every test that needs it: ingest is idempotent, so each test stands alone and in
   * any order.
   */
  let seeding: Promise<void> | undefined;
  const seed = () =>
    (seeding ??= (async () => {
      await http('POST', '/api/v1/requests/events', { events: lifecycle('http-1') });
      for (const [contentType, encode] of otlpEncodings) {
        await http('POST', '/v1/traces', encode(otlpPayload(`otlp-${contentType.split('/')[1]}`, contentType)), {
          'content-type': contentType,
        });
      }
      for (const id of ['http-1', 'otlp-json', 'otlp-x-protobuf'])
        await eventually(async () => ((await assembled(id)) === 1 ? true : undefined), 10_000, `${id} assembled`);
      await pass();
    })());

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url });
    app = await createTracingApp({
      // The single form of request.completed, one message per request (the batch form is the
      // default, covered in event-batch.int-spec.ts).
      config: testConfig(db.url, ns, { TRACING_COMPLETED_PER_MESSAGE: '1' }),
      disableWorkerTimer: true,
      clock: new TestClock(T0 + 2_000),
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    clock = app.get(CLOCK);
    bus = await EventBus.connect({ name: 'tracing-test', namespace: ns });
  });

  afterAll(() => closeTestSetup({ app, bus, pool, db }));

  it('accepts a batch partially, listing the bad items by index, and assembles the good ones', async () => {
    const events = [...lifecycle('http-1'), { requestId: 'http-2', kind: 'started', time: 'yesterday' }];
    const res = await http('POST', '/api/v1/requests/events', { events });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body.accepted).toBe(5);
    expect(body.rejected).toHaveLength(1);
    expect(body.rejected[0].index).toBe(5);
    expect(body.rejected[0].error).toMatch(/kind/);

    await eventually(
      async () => ((await assembled('http-1')) === 1 ? true : undefined),
      10_000,
      'http-1 assembled by the consumer',
    );
    expect(await openRequests()).toBe(0);
    await pass(); // relays the outbox

    const got = await http('GET', '/api/v1/requests/http-1');
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({
      requestId: 'http-1',
      state: 'assembled',
      status: 'completed',
      apiKeyHash: hashApiKey('sk-acme-1', 'integration-test-salt'),
      ttftMs: 305,
      tpotMs: 100,
      e2eMs: 1305,
      queueMs: 100,
    });
    expect(JSON.stringify(got.json())).not.toContain('sk-acme-1');

    const completed = await readSubjects<CloudEvent<RequestCompletedV1>>(bus, 'requests', 'aw.requests.v1.completed.');
    expect(completed.map((c) => [c.subject, c.body.data.requestId])).toEqual([
      [SUBJECTS.requestCompleted('unknown'), 'http-1'],
    ]);
  });

  it('refuses oversized and malformed batches with a code', async () => {
    const tooMany = Array.from({ length: 10_001 }, (_, i) => ({ requestId: `x${i}`, kind: 'received', time: at(0) }));
    const big = await http('POST', '/api/v1/requests/events', { events: tooMany });
    expect([big.statusCode, big.json().code]).toEqual([400, 'BATCH_TOO_LARGE']);
    const bad = await http('POST', '/api/v1/requests/events', { nope: true });
    expect([bad.statusCode, bad.json().code]).toEqual([400, 'BATCH_INVALID']);
  });

  it('changes nothing when the same events are published again (replay) or arrive late', async () => {
    await seed();
    const lateBefore = Number(
      /arcwatch_tracing_events_late_total (\d+)/.exec((await http('GET', '/metrics')).body)?.[1] ?? 0,
    );
    const before = await subjectCounts(bus, 'requests');
    for (const e of lifecycle('http-1')) {
      const { apiKey: _k, ...data } = e as RequestEventV1 & { apiKey?: string };
      const ev = cloudEvent({
        id: `replay-${requestEventId(data)}`,
        type: EVENT_TYPES.requestEvent,
        source: 'test',
        data,
      });
      await bus.publish(SUBJECTS.requestEvents('unknown'), ev);
    }
    await eventually(
      async () => {
        const m = await http('GET', '/metrics');
        return Number(/arcwatch_tracing_events_late_total (\d+)/.exec(m.body)?.[1]) === lateBefore + 5
          ? true
          : undefined;
      },
      10_000,
      'late events counted',
    );
    await pass();
    expect(
      Number((await pool.query(`SELECT count(*) AS n FROM tracing.requests WHERE request_id = 'http-1'`)).rows[0].n),
    ).toBe(1);
    const after = await subjectCounts(bus, 'requests');
    expect(after[SUBJECTS.requestCompleted('unknown')]).toBe(before[SUBJECTS.requestCompleted('unknown')]);
    expect(await openRequests()).toBe(0);
  });

  it.each(otlpEncodings)('assembles an OTLP %s payload of a vLLM llm_request span', async (contentType, encode) => {
    const id = `otlp-${contentType.split('/')[1]}`;
    const payload = otlpPayload(id, contentType);
    const res = await http('POST', '/v1/traces', encode(payload), { 'content-type': contentType });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain(contentType);
    await eventually(
      async () => ((await assembled(id)) === 1 ? true : undefined),
      10_000,
      'the OTLP request assembled',
    );
    await pass();
    const got = (await http('GET', `/api/v1/requests/${id}`)).json();
    expect(got).toMatchObject({
      status: 'completed',
      model: 'qwen2.5-0.5b',
      instance: 'vllm-1',
      queueMs: 50,
      ttftMs: 250,
      prefillMs: 150,
      e2eMs: 2250,
      tpotMs: 100,
    });
  });

  it('searches with filters and a cursor, and links latency buckets to request ids', async () => {
    await seed();
    const page1 = (await http('GET', `/api/v1/requests?from=${at(-60_000)}&to=${at(60_000)}&limit=2`)).json();
    expect(page1.requests).toHaveLength(2);
    const page2 = (
      await http('GET', `/api/v1/requests?from=${at(-60_000)}&to=${at(60_000)}&limit=2&cursor=${page1.nextCursor}`)
    ).json();
    const ids = [...page1.requests, ...page2.requests].map((r: RequestCompletedV1) => r.requestId).sort();
    expect(ids).toEqual(['http-1', 'otlp-json', 'otlp-x-protobuf']);
    const slow = (
      await http('GET', `/api/v1/requests?from=${at(-60_000)}&to=${at(60_000)}&minLatencyMs=2000&model=qwen2.5-0.5b`)
    ).json();
    expect(slow.requests.map((r: RequestCompletedV1) => r.requestId).sort()).toEqual(['otlp-json', 'otlp-x-protobuf']);

    const ex = (
      await http('GET', `/api/v1/requests/exemplars?metric=ttft&from=${at(-60_000)}&to=${at(60_000)}`)
    ).json();
    expect(ex.buckets).toEqual([
      {
        le: '0.25',
        count: 2,
        exemplars: [{ requestId: 'otlp-json' }, { requestId: 'otlp-x-protobuf' }],
        maxSeconds: 0.25,
      },
      { le: '0.5', count: 1, exemplars: [{ requestId: 'http-1' }], maxSeconds: 0.305 },
    ]);
    const invalid = await http('GET', '/api/v1/requests?status=weird');
    expect([invalid.statusCode, invalid.json().code]).toEqual([400, 'QUERY_INVALID']);
    expect((await http('GET', '/api/v1/requests/nope')).statusCode).toBe(404);
  });

  it("answers the notifier's question of which tenants an instance is serving, over NATS request/reply", async () => {
    await seed();
    const ask = async (q: unknown) =>
      (
        await bus.nc.request(bus.naming.toWire(ALERT_CONTEXT_SUBJECTS.affectedTenants), JSON.stringify(q), {
          timeout: 5_000,
        })
      ).json<unknown>();
    expect(await ask({ instance: 'vllm-1', gpus: [], windowSeconds: 3_600 })).toEqual({
      tenants: [{ tenant: 'unknown', requests: 2, errors: 0 }],
    });
    expect(await ask({ instance: 'no-such-instance', gpus: [], windowSeconds: 3_600 })).toEqual({ tenants: [] });
    expect(await ask({ gpus: 'not-a-list' })).toMatchObject({ error: expect.stringMatching(/gpus/) });
  });

  it('publishes the closed minute as a metrics batch with bounded labels', async () => {
    await seed();
    clock.set(T0 + 10 * 60_000);
    await pass();
    const batches = await readSubjects<CloudEvent<MetricsBatchV1>>(bus, 'metrics', 'aw.metrics.v1.samples.');
    expect(batches).toHaveLength(1);
    const b = batches[0].body.data;
    expect(b.source).toBe('tracing');
    const totals = b.series
      .filter((s) => s.labels.__name__ === 'arcwatch_requests_total')
      .map((s) => [s.labels.model, s.samples[0][1]]);
    expect(totals.sort()).toEqual([
      ['llama-3-8b', 1],
      ['qwen2.5-0.5b', 2],
    ]);
    const labelNames = new Set(b.series.flatMap((s) => Object.keys(s.labels)));
    expect([...labelNames].sort()).toEqual([
      '__name__',
      'le',
      'model',
      'model_version',
      'quantile',
      'status',
      'tenant',
    ]);
    // Each TTFT / E2E bucket that had requests links to its slowest request (exemplars, not labels).
    const linked = (b.exemplars ?? []).map((e) => [
      b.series[e.series].labels.__name__,
      b.series[e.series].labels.le,
      e.labels.request_id,
    ]);
    expect(linked).toEqual(
      expect.arrayContaining([
        ['arcwatch_request_ttft_seconds_bucket', '0.5', 'http-1'],
        ['arcwatch_request_ttft_seconds_bucket', '0.25', 'otlp-json'],
      ]),
    );
    const stats = (
      await http('GET', `/api/v1/requests/stats?step=1h&from=${at(-3_600_000)}&to=${at(3_600_000)}&model=qwen2.5-0.5b`)
    ).json();
    expect(stats).toHaveLength(1);
    expect(stats[0].requests).toEqual({ completed: 2 });
    expect(stats[0].latencySeconds.e2e.p50).toBeCloseTo(2.25, 1);
  });
  it('publishes each minute of a history sent at once with the counter total up to that minute, and a late request in the next', async () => {
    // Requests of model history-model ending in three minutes two hours on: 1, then 2, then 3.
    const base = 2 * 3_600_000;
    const shifted = (id: string, minute: number) =>
      lifecycle(id, { model: 'history-model' }).map((e) => ({
        ...e,
        time: new Date(Date.parse(e.time as string) + base + minute * 60_000).toISOString(),
      }));
    const events = [0, 1, 1, 2, 2, 2].flatMap((minute, i) => shifted(`hist-${i}`, minute));
    expect((await http('POST', '/api/v1/requests/events', { events })).statusCode).toBe(202);
    await eventually(
      async () => ((await assembled('hist-5')) === 1 && (await assembled('hist-0')) === 1 ? true : undefined),
      10_000,
      'history assembled',
    );
    const totals = async () =>
      (await readSubjects<CloudEvent<MetricsBatchV1>>(bus, 'metrics', 'aw.metrics.v1.samples.'))
        .flatMap((b) => b.body.data.series)
        .filter((x) => x.labels.__name__ === 'arcwatch_requests_total' && x.labels.model === 'history-model')
        .map((x) => x.samples[0])
        .sort((a, b) => a[0] - b[0]);
    clock.set(T0 + base + 10 * 60_000);
    await pass();
    const minuteEnd = (m: number) => T0 + base + (m + 1) * 60_000;
    expect(await totals()).toEqual([
      [minuteEnd(0), 1],
      [minuteEnd(1), 3],
      [minuteEnd(2), 6],
    ]);
    // One more for the first minute, already published, and one in a new minute: the new minute's
    // total carries both.
    await http('POST', '/api/v1/requests/events', { events: [...shifted('hist-late', 0), ...shifted('hist-6', 12)] });
    await eventually(
      async () => ((await assembled('hist-late')) === 1 && (await assembled('hist-6')) === 1 ? true : undefined),
      10_000,
      'late ones assembled',
    );
    clock.set(T0 + base + 20 * 60_000);
    await pass();
    expect((await totals()).slice(3)).toEqual([[minuteEnd(12), 8]]);
  });
});
