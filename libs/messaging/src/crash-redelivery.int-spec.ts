import { SUBJECTS } from '@arcwatch/contracts';
import { createTestDatabase, eventually, testNamespace, type TestDatabase } from '@arcwatch/testing';
import { Client } from 'pg';
import { EventBus } from './event-bus';
import { deleteStreams, quietLogger, sleep, testEvent, startCrashConsumer } from './testing/int-helpers';

jest.setTimeout(60_000);

const ACK_WAIT_MS = 1_500;

/**
 * A worker dies (SIGKILL) inside its handler after applying the effect but before the ack. The
 * message must come back to another member of the same durable, and the effect, made idempotent
 * on the event id as DESIGN.md asks of every projection, must hold each event exactly once.
 */
describe('redelivery after a crash before ack (real NATS, real PostgreSQL, child process)', () => {
  const namespace = testNamespace();
  const subject = SUBJECTS.requestEvents('crash');
  const durable = 'crash-writer';
  let bus: EventBus;
  let db: TestDatabase;
  let pg: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    await pg.query('CREATE TABLE effects (event_id text PRIMARY KEY)');
    await pg.query('CREATE TABLE attempts (event_id text NOT NULL, worker text NOT NULL, delivery_count int NOT NULL)');
    bus = await EventBus.connect({ name: 'crash-test', namespace, logger: quietLogger });
    await bus.ensureStreams(['requests', 'deadLetter']);
  });

  afterAll(async () => {
    await deleteStreams(bus);
    await bus.drain();
    await pg.end();
    await db.drop();
  });

  it('hands the message to the next consumer, and the effect lands once', async () => {
    for (const id of ['e1', 'e2', 'e3']) await bus.publish(subject, testEvent(id, { id }));

    const child = startCrashConsumer({
      namespace,
      durable,
      subject,
      ackWaitMs: ACK_WAIT_MS,
      databaseUrl: db.url,
    });

    await eventually(
      () => (child.out().includes('IN_HANDLER e1') ? true : undefined),
      20_000,
      `the child to enter its handler (stderr: ${child.err()})`,
    );
    expect(await child.kill()).toBe('SIGKILL');

    const handled: Array<{ id: string; deliveryCount: number }> = [];
    const handle = await bus.consume({
      stream: 'requests',
      durable,
      filterSubject: subject,
      ackWaitMs: ACK_WAIT_MS,
      handler: async (msg) => {
        const id = msg.json<{ id: string }>().id;
        await pg.query('INSERT INTO attempts (event_id, worker, delivery_count) VALUES ($1, $2, $3)', [
          id,
          'parent',
          msg.deliveryCount,
        ]);
        await pg.query('INSERT INTO effects (event_id) VALUES ($1) ON CONFLICT DO NOTHING', [id]);
        handled.push({ id, deliveryCount: msg.deliveryCount });
      },
    });
    await eventually(() => (handled.length >= 3 ? true : undefined), 20_000, 'the redeliveries');
    await sleep(ACK_WAIT_MS * 2); // anything not acked would come round again in this time
    await handle.stop();

    // e1 went to the child first, so the parent saw it as its second delivery.
    expect(handled.find((h) => h.id === 'e1')).toEqual({ id: 'e1', deliveryCount: 2 });
    expect(handled.map((h) => h.id).sort()).toEqual(['e1', 'e2', 'e3']);
    const attempts = await pg.query<{ event_id: string; worker: string; delivery_count: number }>(
      "SELECT event_id, worker, delivery_count FROM attempts WHERE event_id = 'e1' ORDER BY delivery_count",
    );
    expect(attempts.rows).toEqual([
      { event_id: 'e1', worker: 'child', delivery_count: 1 },
      { event_id: 'e1', worker: 'parent', delivery_count: 2 },
    ]);
    const effects = await pg.query<{ event_id: string }>('SELECT event_id FROM effects ORDER BY event_id');
    expect(effects.rows.map((r) => r.event_id)).toEqual(['e1', 'e2', 'e3']);
    const info = await bus.jsm.consumers.info(bus.streamName('requests'), durable);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
  });
  it('a batch held by a member that dies comes back to the member that was consuming all along', async () => {
    // The shape of a scaled-out service: two members of one durable both pulling, one SIGKILLed
    // while it holds a batch (committed, not acked). The other has had its own pull requests open
    // the whole time and must get that batch after ack-wait, beside new messages.
    const shared = `${durable}-shared`;
    const sharedSubject = SUBJECTS.requestEvents('crash-shared');
    const handled: Array<{ id: string; deliveryCount: number }> = [];
    const survivor = await bus.consumeBatch({
      stream: 'requests',
      durable: shared,
      filterSubject: sharedSubject,
      ackWaitMs: ACK_WAIT_MS,
      maxBatch: 500,
      maxWaitMs: 50,
      handler: async (msgs) => {
        for (const m of msgs) handled.push({ id: m.json<{ id: string }>().id, deliveryCount: m.deliveryCount });
      },
    });
    const child = startCrashConsumer({
      namespace,
      durable: shared,
      subject: sharedSubject,
      ackWaitMs: ACK_WAIT_MS,
      databaseUrl: db.url,
      mode: 'batch',
    });
    try {
      await eventually(() => (child.out().includes('READY') ? true : undefined), 20_000, 'the child consuming');
      // Both members pull; publish until the child holds some.
      const sent: string[] = [];
      await eventually(
        async () => {
          const id = `s${sent.length}`;
          sent.push(id);
          await bus.publish(sharedSubject, testEvent(id, { id }));
          await sleep(20);
          return child.out().includes('IN_HANDLER') ? true : undefined;
        },
        20_000,
        'the child to take a batch',
      );
      const out = child.out();
      const held = out
        .slice(out.indexOf('IN_HANDLER ') + 'IN_HANDLER '.length)
        .split('\n')[0]
        .split(',');
      expect(await child.kill()).toBe('SIGKILL');
      for (let i = 0; i < 5; i++) {
        const id = `after${i}`;
        sent.push(id);
        await bus.publish(sharedSubject, testEvent(id, { id }));
      }
      await eventually(
        () => (sent.every((id) => handled.some((h) => h.id === id)) ? true : undefined),
        ACK_WAIT_MS * 10,
        `the survivor to handle all ${sent.length}, ${held.length} of them after the child's death`,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; missing ${sent.filter((id) => !handled.some((h) => h.id === id)).join(',')}`);
      });
      expect(held.length).toBeGreaterThan(0);
      for (const id of held) expect(handled.find((h) => h.id === id)?.deliveryCount).toBeGreaterThanOrEqual(2);
    } finally {
      await child.kill();
      await survivor.stop();
    }
  });
});
