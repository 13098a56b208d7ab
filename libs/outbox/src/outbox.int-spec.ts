import { cloudEvent, SUBJECTS, type CloudEvent } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { createPool, migrate, withTransaction } from '@arcwatch/storage';
import { createTestDatabase, TEST_NATS_URL, testNamespace, type TestDatabase } from '@arcwatch/testing';
import type { Pool } from 'pg';
import { copyIntoOutbox, enqueueOutbox, OutboxRelay, type OutboxEntry } from './outbox';
import { outboxEventTextMigration, outboxMigration } from './outbox.schema';

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
    await migrate(pool, {
      schema: SCHEMA,
      migrations: [outboxMigration(), outboxEventTextMigration('0001_outbox_event_text')],
    });
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

  it('publishes the JSON it stored, byte for byte, under the event id', async () => {
    const e = entry(950);
    await withTransaction(pool, (c) => enqueueOutbox(c, SCHEMA, [e]));
    const stored = await pool.query<{ event: string }>(`SELECT event FROM ${SCHEMA}.outbox WHERE event_id = 'evt-950'`);
    expect(stored.rows[0].event).toBe(JSON.stringify(e.event));
    const seq = (await bus.jsm.streams.info(bus.streamName('requests'))).state.last_seq;
    expect(await new OutboxRelay({ pool, schema: SCHEMA, bus }).flush()).toBe(1);
    const m = await bus.jsm.streams.getMessage(bus.streamName('requests'), { seq: seq + 1 });
    expect(m?.string()).toBe(JSON.stringify(e.event));
    expect(m?.header.get('Nats-Msg-Id')).toBe('evt-950');
  });

  it('queues a group larger than one statement takes, in order, each id once', async () => {
    const many = Array.from({ length: 2_500 }, (_, i) => entry(10_000 + i));
    await withTransaction(pool, (c) => enqueueOutbox(c, SCHEMA, [...many, many[0]]));
    const { rows } = await pool.query<{ event_id: string }>(
      `SELECT event_id FROM ${SCHEMA}.outbox WHERE event_id LIKE 'evt-1____' ORDER BY id`,
    );
    expect(rows.map((r) => r.event_id)).toEqual(many.map((e) => e.event.id));
    await new OutboxRelay({ pool, schema: SCHEMA, bus }).flush();
  });

  it('an outbox created before events were stored as text keeps its queued rows and publishes them after the migration', async () => {
    const old = `${SCHEMA}_old`;
    await pool.query(`CREATE SCHEMA ${old}`);
    await migrate(pool, { schema: old, migrations: [outboxMigration()] });
    const e = entry(7);
    await pool.query(`INSERT INTO ${old}.outbox (event_id, subject, event) VALUES ($1, $2, $3::jsonb)`, [
      e.event.id,
      e.subject,
      JSON.stringify(e.event),
    ]);
    await migrate(pool, {
      schema: old,
      migrations: [outboxMigration(), outboxEventTextMigration('0001_outbox_event_text')],
    });
    const type = await pool.query<{ t: string }>(
      `SELECT data_type AS t FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'outbox' AND column_name = 'event'`,
      [old],
    );
    expect(type.rows[0].t).toBe('text');
    const seq = (await bus.jsm.streams.info(bus.streamName('requests'))).state.last_seq;
    expect(await new OutboxRelay({ pool, schema: old, bus }).flush()).toBe(1);
    const m = await bus.jsm.streams.getMessage(bus.streamName('requests'), { seq: seq + 1 });
    expect(JSON.parse(m?.string() ?? 'null')).toEqual(e.event);
  });

  it('queues bytes as they are and publishes committed entries from them: nothing read back, the rows gone', async () => {
    const e = entry(960);
    const json = Buffer.from(JSON.stringify({ ...e.event, data: { note: 'grüße 😀 "q" \\' } }), 'utf8');
    const queued = [{ subject: e.subject, id: e.event.id, json }];
    await withTransaction(pool, (c) => enqueueOutbox(c, SCHEMA, queued));
    const stored = await pool.query<{ event: string }>(`SELECT event FROM ${SCHEMA}.outbox WHERE event_id = 'evt-960'`);
    expect(stored.rows[0].event).toBe(json.toString('utf8'));
    const seq = (await bus.jsm.streams.info(bus.streamName('requests'))).state.last_seq;
    const published: number[] = [];
    const relay = new OutboxRelay({ pool, schema: SCHEMA, bus, onPublished: (n) => published.push(n) });
    await relay.publishCommitted(queued);
    expect(published).toEqual([1]);
    expect(relay.committedPending).toBe(0);
    expect(await relay.pending()).toBe(0);
    const m = await bus.jsm.streams.getMessage(bus.streamName('requests'), { seq: seq + 1 });
    expect(Buffer.from(m?.data ?? []).equals(json)).toBe(true);
    expect(m?.header.get('Nats-Msg-Id')).toBe('evt-960');
    expect(await relay.flush()).toBe(0);
  });

  it('a committed publish that fails leaves its rows, says so, and the next flush publishes them', async () => {
    const entries = [entry(970), entry(971)].map((e) => ({
      subject: e.subject,
      id: e.event.id,
      json: Buffer.from(JSON.stringify(e.event)),
    }));
    await withTransaction(pool, (c) => enqueueOutbox(c, SCHEMA, entries));
    const closed = await EventBus.connect({ url: TEST_NATS_URL, name: 'outbox-closed', namespace: testNamespace() });
    await closed.drain();
    const failures: Array<[string, number]> = [];
    const broken = new OutboxRelay({
      pool,
      schema: SCHEMA,
      bus: closed,
      onCommittedFailed: (err, n) => failures.push([(err as Error).message, n]),
    });
    await broken.publishCommitted(entries);
    expect(failures).toEqual([[expect.stringContaining('after drain() began'), 2]]);
    const before = await streamCount();
    const relay = new OutboxRelay({ pool, schema: SCHEMA, bus });
    expect(await relay.pending()).toBe(2);
    expect(await relay.flush()).toBe(2);
    expect(await streamCount()).toBe(before + 2);
  });

  it('refuses bytes that are not UTF-8, and queues nothing of that statement', async () => {
    const bad = [
      { subject: 'aw.requests.v1.completed.t', id: 'evt-bad-ok', json: Buffer.from('{"ok":true}') },
      { subject: 'aw.requests.v1.completed.t', id: 'evt-bad', json: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) },
    ];
    await expect(withTransaction(pool, (c) => enqueueOutbox(c, SCHEMA, bad))).rejects.toThrow(/invalid byte sequence/);
    const { rows } = await pool.query(`SELECT 1 FROM ${SCHEMA}.outbox WHERE event_id LIKE 'evt-bad%'`);
    expect(rows).toEqual([]);
  });

  it('copies events queued for the first time, bytes as they are, in order; an id already queued fails the transaction', async () => {
    const many = Array.from({ length: 3 }, (_, i) => {
      const e = entry(980 + i);
      const json = Buffer.from(JSON.stringify({ ...e.event, data: { i, text: 'ünï "c" \\ 😀'.repeat(i * 20_000) } }));
      return { subject: e.subject, id: e.event.id, json };
    });
    await withTransaction(pool, (c) => copyIntoOutbox(c, SCHEMA, many));
    const { rows } = await pool.query<{ event_id: string; subject: string; event: string }>(
      `SELECT event_id, subject, event FROM ${SCHEMA}.outbox WHERE event_id LIKE 'evt-98_' ORDER BY id`,
    );
    expect(rows.map((r) => [r.event_id, r.subject, r.event])).toEqual(
      many.map((m) => [m.id, m.subject, m.json.toString('utf8')]),
    );

    const again = { subject: 'aw.requests.v1.completed.t', id: 'evt-990', json: Buffer.from('{"again":true}') };
    await expect(
      withTransaction(pool, async (c) => {
        await copyIntoOutbox(c, SCHEMA, [again]);
        await copyIntoOutbox(c, SCHEMA, [many[1]]);
      }),
    ).rejects.toThrow(/duplicate key/);
    expect((await pool.query(`SELECT 1 FROM ${SCHEMA}.outbox WHERE event_id = 'evt-990'`)).rows).toEqual([]);
    await new OutboxRelay({ pool, schema: SCHEMA, bus }).flush();
  });
});
