import { cloudEvent, SUBJECTS, type CloudEvent, type DeadLetterV1 } from '@arcwatch/contracts';
import { createTestDatabase, eventually, testNamespace, type TestDatabase } from '@arcwatch/testing';
import { Client } from 'pg';
import { z } from 'zod';
import type { ConsumerHandle, InboundMessage } from './consumer-runner';
import { MessagingError, RetryableError } from './errors';
import { EventBus } from './event-bus';
import { parseEach } from './parse-or-poison';
import { deleteStreams, quietLogger, readStream, sleep, testEvent, startCrashConsumer } from './testing/int-helpers';

const PING = 'io.arcwatch.test.ping.v1';
const pingSchema = z.object({ n: z.number().int() });

jest.setTimeout(60_000);

interface Call {
  ids: string[];
  deliveryCounts: number[];
}

const idOf = (m: InboundMessage) => m.json<{ id: string }>().id;
const record = (msgs: readonly InboundMessage[]): Call => ({
  ids: msgs.map(idOf),
  deliveryCounts: msgs.map((m) => m.deliveryCount),
});

describe('EventBus.consumeBatch (real NATS)', () => {
  const namespace = testNamespace();
  let bus: EventBus;
  const handles: ConsumerHandle[] = [];
  let tenant = 0;

  function lane() {
    tenant += 1;
    return { subject: SUBJECTS.requestEvents(`b${tenant}`), durable: `batch${tenant}` };
  }

  async function pending(durable: string): Promise<{ ackPending: number; undelivered: number }> {
    const info = await bus.jsm.consumers.info(bus.streamName('requests'), durable);
    return { ackPending: info.num_ack_pending, undelivered: info.num_pending };
  }

  async function deadLetters(durable: string): Promise<DeadLetterV1[]> {
    return (await readStream<CloudEvent<DeadLetterV1>>(bus, 'deadLetter'))
      .map((m) => m.body.data)
      .filter((d) => d.durable === durable);
  }

  beforeAll(async () => {
    bus = await EventBus.connect({ name: 'messaging-batch-test', namespace, logger: quietLogger });
    await bus.ensureStreams(['requests', 'deadLetter']);
  });

  afterEach(async () => {
    await Promise.all(handles.splice(0).map((h) => h.stop()));
  });

  afterAll(async () => {
    await deleteStreams(bus);
    await bus.drain();
  });

  it('hands a group of good messages over in one call and acks them only once it resolves', async () => {
    const { subject, durable } = lane();
    for (let i = 1; i <= 5; i++) await bus.publish(subject, testEvent(`g${i}`, { id: `g${i}` }));
    const calls: Call[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    handles.push(
      await bus.consumeBatch({
        stream: 'requests',
        durable,
        filterSubject: subject,
        maxBatch: 10,
        maxWaitMs: 300,
        ackWaitMs: 1_500,
        handler: async (msgs) => {
          calls.push(record(msgs));
          await gate;
        },
      }),
    );
    await eventually(() => (calls.length === 1 ? true : undefined), 10_000, 'the batch');
    // Inside the handler nothing is acked yet.
    expect(await pending(durable)).toEqual({ ackPending: 5, undelivered: 0 });
    release();
    await eventually(async () => ((await pending(durable)).ackPending === 0 ? true : undefined), 5_000, 'the acks');
    await sleep(2_000); // past ack-wait: an unacked message would be back by now
    expect(calls).toEqual([{ ids: ['g1', 'g2', 'g3', 'g4', 'g5'], deliveryCounts: [1, 1, 1, 1, 1] }]);
  });

  it('closes a batch at maxBatch and keeps stream order across batches', async () => {
    const { subject, durable } = lane();
    const ids = Array.from({ length: 7 }, (_, i) => `o${i + 1}`);
    for (const id of ids) await bus.publish(subject, testEvent(id, { id }));
    const calls: Call[] = [];
    handles.push(
      await bus.consumeBatch({
        stream: 'requests',
        durable,
        filterSubject: subject,
        maxBatch: 3,
        maxWaitMs: 200,
        handler: async (msgs) => {
          calls.push(record(msgs));
        },
      }),
    );
    await eventually(() => (calls.flatMap((c) => c.ids).length === 7 ? true : undefined), 10_000, 'all seven');
    expect(calls.map((c) => c.ids)).toEqual([['o1', 'o2', 'o3'], ['o4', 'o5', 'o6'], ['o7']]);
  });

  it('dead-letters the one malformed message of a batch with its reason and commits the others', async () => {
    const { subject, durable } = lane();
    const good = (n: number) => cloudEvent({ id: `p${n}`, type: PING, source: 'test', data: { n } });
    await bus.publish(subject, good(1));
    await bus.js.publish(bus.naming.toWire(subject), new TextEncoder().encode('{"oops": '), {
      msgID: 'batch-bad-json',
    });
    await bus.publish(subject, cloudEvent({ id: 'p-bad-data', type: PING, source: 'test', data: { n: 'seven' } }));
    await bus.publish(subject, good(2));

    const committed: number[][] = [];
    handles.push(
      await bus.consumeBatch({
        stream: 'requests',
        durable,
        filterSubject: subject,
        maxWaitMs: 300,
        handler: async (msgs) => {
          const { parsed, failed } = parseEach(msgs, PING, pingSchema);
          committed.push(parsed.map((p) => p.event.data.n));
          return { failed };
        },
      }),
    );
    const dlq = await eventually(
      async () => {
        const d = await deadLetters(durable);
        return d.length === 2 ? d : undefined;
      },
      10_000,
      'two dead letters',
    );
    expect(committed).toEqual([[1, 2]]);
    expect(dlq.map((d) => d.reason)).toEqual([
      `${subject}#${dlq[0].seq}: body is not JSON: Unexpected end of JSON input`,
      expect.stringMatching(/#\d+: invalid io\.arcwatch\.test\.ping\.v1 data: n:/),
    ]);
    expect(dlq[1].seq).toBe(dlq[0].seq + 1);
    expect(dlq.map((d) => d.deliveryCount)).toEqual([1, 1]);
    await eventually(async () => ((await pending(durable)).ackPending === 0 ? true : undefined), 5_000, 'the acks');
    expect(await pending(durable)).toEqual({ ackPending: 0, undelivered: 0 });
  });

  it('redelivers the whole batch, in order, after the handler threw, and dead-letters it past maxDeliver', async () => {
    const { subject, durable } = lane();
    for (const id of ['r1', 'r2', 'r3']) await bus.publish(subject, testEvent(id, { id }));
    const calls: Call[] = [];
    handles.push(
      await bus.consumeBatch({
        stream: 'requests',
        durable,
        filterSubject: subject,
        maxDeliver: 3,
        maxWaitMs: 300,
        backoff: { baseMs: 100, maxMs: 400 },
        handler: async (msgs) => {
          calls.push(record(msgs));
          throw new Error(`could not serialize access (call ${calls.length})`);
        },
      }),
    );
    const dlq = await eventually(
      async () => {
        const d = await deadLetters(durable);
        return d.length === 3 ? d : undefined;
      },
      15_000,
      'three dead letters',
    );
    expect(calls).toEqual([
      { ids: ['r1', 'r2', 'r3'], deliveryCounts: [1, 1, 1] },
      { ids: ['r1', 'r2', 'r3'], deliveryCounts: [2, 2, 2] },
      { ids: ['r1', 'r2', 'r3'], deliveryCounts: [3, 3, 3] },
    ]);
    expect(dlq.map((d) => [d.seq, d.deliveryCount, d.reason])).toEqual(
      [1, 2, 3].map(() => [
        expect.any(Number),
        3,
        'gave up after 3 deliveries: Error: could not serialize access (call 3)',
      ]),
    );
    await sleep(500);
    expect(calls).toHaveLength(3);
    expect(await pending(durable)).toEqual({ ackPending: 0, undelivered: 0 });
  });

  it('drain lets the in-flight batch finish and acks it; what was only prefetched goes to the next member', async () => {
    const { subject, durable } = lane();
    const own = await EventBus.connect({ name: 'messaging-batch-drain-test', namespace, logger: quietLogger });
    for (const id of ['s1', 's2', 's3']) await bus.publish(subject, testEvent(id, { id }));
    const started: string[][] = [];
    const finished: string[][] = [];
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    await own.consumeBatch({
      stream: 'requests',
      durable,
      filterSubject: subject,
      maxBatch: 2,
      ackWaitMs: 2_000,
      handler: async (msgs) => {
        started.push(msgs.map(idOf));
        entered();
        await sleep(700);
        finished.push(msgs.map(idOf));
      },
    });
    await inHandler;
    await own.drain();
    expect(own.nc.isClosed()).toBe(true);
    expect(started).toEqual([['s1', 's2']]);
    expect(finished).toEqual([['s1', 's2']]);

    const rest: Call[] = [];
    handles.push(
      await bus.consumeBatch({
        stream: 'requests',
        durable,
        filterSubject: subject,
        ackWaitMs: 2_000,
        handler: async (msgs) => {
          rest.push(record(msgs));
        },
      }),
    );
    await eventually(() => (rest.length >= 1 ? true : undefined), 15_000, 'the prefetched message');
    await sleep(2_500); // past the ack wait: an unacked s1 or s2 would be back by now
    expect(rest).toEqual([{ ids: ['s3'], deliveryCounts: [2] }]);
  });

  it("reports its backlog from message metadata: in flight, nak'ed until taken again, and caught up", async () => {
    const { subject, durable } = lane();
    for (let i = 1; i <= 5; i++) await bus.publish(subject, testEvent(`k${i}`, { id: `k${i}` }));
    const calls: Call[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const handle = await bus.consumeBatch({
      stream: 'requests',
      durable,
      filterSubject: subject,
      maxBatch: 3,
      maxWaitMs: 200,
      handler: async (msgs) => {
        calls.push(record(msgs));
        if (calls.length === 1) {
          await gate;
          throw new RetryableError('database unavailable', 1_500);
        }
      },
    });
    handles.push(handle);
    await eventually(() => (calls.length === 1 ? true : undefined), 10_000, 'the first batch');
    // k3 was delivered with k4 and k5 still to come (prefetched or not, the server counted them).
    expect(handle.backlog()).toMatchObject({ undelivered: 2, inFlight: 3, awaitingRedelivery: 0 });
    release();
    await eventually(() => (calls.length === 2 ? true : undefined), 10_000, 'the second batch');
    await eventually(() => (handle.backlog().inFlight === 0 ? true : undefined), 5_000, 'the acks');
    // The server still counts the nak'ed three as unacked; so does the backlog.
    expect(handle.backlog()).toMatchObject({ undelivered: 0, inFlight: 0, awaitingRedelivery: 3 });
    // The acks of the other two travel asynchronously: wait until the server has counted them.
    const serverCounts = await eventually(
      async () => {
        const p = await pending(durable);
        return p.ackPending === 3 ? p : undefined;
      },
      5_000,
      'the server to count the acks',
    );
    expect(serverCounts).toEqual({ ackPending: 3, undelivered: 0 });
    await eventually(() => (calls.length === 3 ? true : undefined), 10_000, 'the redelivery');
    await eventually(() => (handle.backlog().inFlight === 0 ? true : undefined), 5_000, 'the acks of the redelivery');
    expect(handle.backlog()).toMatchObject({
      undelivered: 0,
      inFlight: 0,
      awaitingRedelivery: 0,
      lastTakenAt: expect.any(Date),
    });
    await eventually(
      async () => ((await pending(durable)).ackPending === 0 ? true : undefined),
      5_000,
      'the server to count the last acks',
    );
    expect(await pending(durable)).toEqual({ ackPending: 0, undelivered: 0 });
    expect(calls.map((c) => c.ids)).toEqual([
      ['k1', 'k2', 'k3'],
      ['k4', 'k5'],
      ['k1', 'k2', 'k3'],
    ]);
  });

  it('refuses a batch that cannot fill, or one that waits longer than ack-wait', async () => {
    const base = {
      stream: 'requests' as const,
      durable: 'batch-invalid',
      filterSubject: SUBJECTS.requestEvents('x'),
      handler: async () => undefined,
    };
    await expect(bus.consumeBatch({ ...base, maxBatch: 500, maxAckPending: 100 })).rejects.toThrow(MessagingError);
    await expect(bus.consumeBatch({ ...base, maxWaitMs: 5_000, ackWaitMs: 5_000 })).rejects.toThrow(
      /maxWaitMs 5000 must be below ackWaitMs 5000/,
    );
  });
});

/**
 * A worker commits the effect of a whole batch in one transaction and is SIGKILLed before it
 * acks. The whole batch must come back to the next member, and an effect that is idempotent on
 * the event id must hold each event exactly once.
 */
describe('consumeBatch redelivery after a crash before ack (real NATS, real PostgreSQL, child process)', () => {
  const namespace = testNamespace();
  const subject = SUBJECTS.requestEvents('batch-crash');
  const durable = 'batch-crash-writer';
  const ACK_WAIT_MS = 1_500;
  const IDS = ['c1', 'c2', 'c3', 'c4', 'c5'];
  let bus: EventBus;
  let db: TestDatabase;
  let pg: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    await pg.query('CREATE TABLE effects (event_id text PRIMARY KEY)');
    await pg.query('CREATE TABLE attempts (event_id text NOT NULL, worker text NOT NULL, delivery_count int NOT NULL)');
    bus = await EventBus.connect({ name: 'batch-crash-test', namespace, logger: quietLogger });
    await bus.ensureStreams(['requests', 'deadLetter']);
  });

  afterAll(async () => {
    await deleteStreams(bus);
    await bus.drain();
    await pg.end();
    await db.drop();
  });

  it('hands the whole batch to the next consumer, and the effect lands once per event', async () => {
    for (const id of IDS) await bus.publish(subject, testEvent(id, { id }));
    const child = startCrashConsumer({
      namespace,
      durable,
      subject,
      ackWaitMs: ACK_WAIT_MS,
      databaseUrl: db.url,
      mode: 'batch',
    });
    await eventually(
      () => (child.out().includes('IN_HANDLER') ? true : undefined),
      20_000,
      `the child to enter its handler (stderr: ${child.err()})`,
    );
    expect(child.out()).toContain(`IN_HANDLER ${IDS.join(',')}`);
    expect(await child.kill()).toBe('SIGKILL');

    const calls: Call[] = [];
    const handle = await bus.consumeBatch({
      stream: 'requests',
      durable,
      filterSubject: subject,
      ackWaitMs: ACK_WAIT_MS,
      maxWaitMs: 300,
      handler: async (msgs) => {
        const ids = msgs.map(idOf);
        await pg.query('BEGIN');
        await pg.query("INSERT INTO attempts SELECT id, 'parent', n FROM unnest($1::text[], $2::int[]) AS a(id, n)", [
          ids,
          msgs.map((m) => m.deliveryCount),
        ]);
        await pg.query('INSERT INTO effects (event_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [ids]);
        await pg.query('COMMIT');
        calls.push(record(msgs));
      },
    });
    await eventually(
      () => (calls.flatMap((c) => c.ids).length >= IDS.length ? true : undefined),
      20_000,
      'the redelivered batch',
    );
    await sleep(ACK_WAIT_MS * 2); // anything not acked would come round again in this time
    await handle.stop();

    expect(calls.flatMap((c) => c.ids)).toEqual(IDS);
    expect(calls.flatMap((c) => c.deliveryCounts)).toEqual([2, 2, 2, 2, 2]);
    const attempts = await pg.query<{ worker: string; n: string }>(
      'SELECT worker, count(*) AS n FROM attempts GROUP BY worker ORDER BY worker',
    );
    expect(attempts.rows).toEqual([
      { worker: 'child', n: '5' },
      { worker: 'parent', n: '5' },
    ]);
    const effects = await pg.query<{ event_id: string }>('SELECT event_id FROM effects ORDER BY event_id');
    expect(effects.rows.map((r) => r.event_id)).toEqual(IDS);
    const info = await bus.jsm.consumers.info(bus.streamName('requests'), durable);
    expect([info.num_ack_pending, info.num_pending]).toEqual([0, 0]);
  });
});
