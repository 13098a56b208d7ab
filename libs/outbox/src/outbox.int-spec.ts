import { cloudEvent, SUBJECTS, type CloudEvent } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { createPool, migrate, withTransaction } from '@arcwatch/storage';
import { createTestDatabase, TEST_NATS_URL, testNamespace, type TestDatabase } from '@arcwatch/testing';
import type { Pool } from 'pg';
import { enqueueOutbox, OutboxRelay, type OutboxEntry } from './outbox';
import { outboxMigration } from './outbox.schema';

const SCHEMA = 'svc';

function entry(i: number): OutboxEntry {
  const subject = SUBJECTS.requestCompleted(`tenant-${i % 3}`);
  return {
    subject,
    event: cloudEvent({
      id: `evt-${i}`,
      type: 'io.arcwatch.test.v1',
      source: 'test',
      subject,
      data: { i },
    }) as CloudEvent<unknown>,
  };
}

describe('outbox (PostgreSQL + JetStream)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let bus: EventBus;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    await pool.query(`CREATE SCHEMA ${SCHEMA}`);
    await migrate(pool, { schema: SCHEMA, migrations: [outboxMigration()] });
    bus = await EventBus.connect({ url: TEST_NATS_URL, name: 'outbox-test', namespace: testNamespace() });
    await bus.ensureStreams(['requests']);
  });
  afterAll(async () => {
    await bus.drain();
    await pool.end();
    await db.drop();
  });

  const streamCount = async () => (await bus.jsm.streams.info(bus.streamName('requests'))).state.messages;

  it('queues in the caller transaction: a rollback queues nothing, an id queued twice is one row', async () => {
    await expect(
      withTransaction(pool, async (c) => {
        await enqueueOutbox(c, SCHEMA, [entry(1)]);
        throw new Error('decision rolled back');
      }),
    ).rejects.toThrow('decision rolled back');
    await withTransaction(pool, (c) => enqueueOutbox(c, SCHEMA, [entry(1), entry(1), entry(2)]));
    const relay = new OutboxRelay({ pool, schema: SCHEMA, bus });
    expect(await relay.pending()).toBe(2);
    expect(await relay.flush()).toBe(2);
    expect(await relay.pending()).toBe(0);
    expect(await streamCount()).toBe(2);
  });

  it('two relays (replicas) flushing at once publish every row exactly once, in queue order per relay', async () => {
    const before = await streamCount();
    await withTransaction(pool, (c) =>
      enqueueOutbox(
        c,
        SCHEMA,
        Array.from({ length: 600 }, (_, i) => entry(100 + i)),
      ),
    );
    const published: number[] = [];
    const a = new OutboxRelay({ pool, schema: SCHEMA, bus, batchSize: 50, onPublished: (n) => published.push(n) });
    const b = new OutboxRelay({ pool, schema: SCHEMA, bus, batchSize: 50, onPublished: (n) => published.push(n) });
    const [na, nb] = await Promise.all([a.flush(), b.flush()]);
    expect(na + nb).toBe(600);
    expect(published.reduce((x, y) => x + y, 0)).toBe(600);
    expect(await streamCount()).toBe(before + 600);
  });

  it('a relay that published but crashed before deleting re-publishes with the same ids: JetStream keeps one copy', async () => {
    await withTransaction(pool, (c) => enqueueOutbox(c, SCHEMA, [entry(900), entry(901)]));
    // The crash window: the events reached JetStream, the rows were never deleted.
    await bus.publishMany([entry(900), entry(901)]);
    const before = await streamCount();
    expect(await new OutboxRelay({ pool, schema: SCHEMA, bus }).flush()).toBe(2);
    expect(await streamCount()).toBe(before);
  });
});
