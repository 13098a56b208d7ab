import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'pg';
import { EventBus } from '@arcwatch/messaging';
import { authHeaders, createTestDatabase, eventually, testNamespace, type TestDatabase } from '@arcwatch/testing';
import type { JsMsg } from '@nats-io/jetstream';
import type { RequestEventV1 } from '@arcwatch/contracts';
import { createTracingApp } from '../app';
import { eventMessages } from '../ingest/event-messages';
import { closeTestSetup, testConfig } from '../testing/tracing-test-kit';
import { ASSEMBLY_DURABLE } from './assembly-durable';
import { AssemblyWorker } from './assembly.worker';

jest.setTimeout(60_000);

const GRACE_MS = 300;

/**
 * A member of the assembly consumer that pulled a request's `received` and died holds it until
 * the ack wait runs out (30 s); the member still running gets the request's other phases and its
 * clock runs past the grace period meanwhile. The request must not be assembled without the held
 * phase: before this was checked it was, with its start at its first phase that had arrived, and
 * billing skipped such records. Here the dead member is this test pulling the message and not
 * acking it; its nak stands for the redelivery at the end of the ack wait.
 */
describe('assembly while another member holds a phase (NATS + Postgres)', () => {
  const ns = testNamespace();
  let db: TestDatabase;
  let pool: Pool;
  let bus: EventBus;
  let app: NestFastifyApplication | undefined;

  const T0 = Date.now() - 60_000;
  const at = (ms: number) => new Date(T0 + ms).toISOString();
  const phases = (requestId: string): RequestEventV1[] => [
    { requestId, kind: 'received', time: at(0), tenant: 'acme', model: 'llama-3-8b', modelVersion: 'v1' },
    { requestId, kind: 'queued', time: at(5) },
    { requestId, kind: 'scheduled', time: at(105), instance: 'vllm-0', gpuUuids: ['GPU-1'] },
    { requestId, kind: 'first_token', time: at(305) },
    { requestId, kind: 'completed', time: at(1305), promptTokens: 100, completionTokens: 11 },
  ];
  const publish = (events: RequestEventV1[]) => bus.publishMany(eventMessages(events, 1, () => 'acme'));
  const start = async () => {
    app = await createTracingApp({
      config: testConfig(db.url, ns, { TRACING_COMPLETION_GRACE_MS: String(GRACE_MS) }),
      disableWorkerTimer: true,
    });
    await app.init();
    return app;
  };
  const pass = () => app!.get(AssemblyWorker).runOnce();
  const record = async (id: string) =>
    (
      await pool.query<{ started_at: Date; missing_phases: string[] }>(
        `SELECT started_at, record->'missingPhases' AS missing_phases FROM tracing.requests WHERE request_id = $1`,
        [id],
      )
    ).rows[0];
  const held = async () =>
    Number(
      /arcwatch_tracing_deadlines_held_total (\d+)/.exec(
        await app!
          .getHttpAdapter()
          .getInstance()
          .inject({ method: 'GET', url: '/metrics', headers: authHeaders() })
          .then((r) => r.body),
      )?.[1] ?? 'NaN',
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url });
    bus = await EventBus.connect({ name: 'held-events-test', namespace: ns });
  });

  afterAll(() => closeTestSetup({ app, bus, pool, db }));

  it('holds a request past its grace period while its received is pulled and unacked, and assembles it whole once redelivered', async () => {
    // The durable exists once the service has started; with the service stopped, the "dead
    // member" pulls the first message.
    await (await start()).close();
    app = undefined;
    const [received, ...rest] = phases('r-held');
    await publish([received]);
    const consumer = await bus.js.consumers.get(bus.streamName('requests'), ASSEMBLY_DURABLE);
    const pulled: JsMsg | null = await consumer.next({ expires: 5_000 });
    expect(pulled?.json<{ data: RequestEventV1 }>().data).toMatchObject({ requestId: 'r-held', kind: 'received' });

    await start();
    await publish(rest);
    // The running member takes the other four phases; the request waits for its received.
    await eventually(
      async () =>
        Number(
          (await pool.query(`SELECT count(*) AS n FROM tracing.open_requests WHERE request_id = 'r-held'`)).rows[0].n,
        ) === 1 || undefined,
      10_000,
      'r-held open',
    );
    // Well past the grace period (and every pass on the wall clock: nothing is undelivered or in
    // flight for the running member), the request is still waiting.
    const until = Date.now() + 6 * GRACE_MS;
    while (Date.now() < until) {
      await pass();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await record('r-held')).toBeUndefined();
    expect(await held()).toBeGreaterThan(0);

    // The held message comes back (the ack wait ran out) and the request is assembled whole.
    pulled?.nak();
    await eventually(async () => (await record('r-held')) ?? undefined, 10_000, 'r-held assembled');
    expect(await record('r-held')).toEqual({ started_at: new Date(at(0)), missing_phases: [] });
  });

  it('still assembles a request whose phase never comes once its grace period is over and nothing is held', async () => {
    const withoutQueued = phases('r-missing').filter((e) => e.kind !== 'queued');
    await publish(withoutQueued);
    await eventually(
      async () => {
        await pass();
        return (await record('r-missing')) ?? undefined;
      },
      10_000,
      'r-missing assembled after its grace period',
    );
    expect(await record('r-missing')).toEqual({ started_at: new Date(at(0)), missing_phases: ['queued'] });
  });
});
