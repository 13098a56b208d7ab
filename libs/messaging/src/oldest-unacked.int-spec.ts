import { SUBJECTS } from '@arcwatch/contracts';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { testNamespace } from '@arcwatch/testing';
import { EventBus } from './event-bus';
import { deleteStreams, quietLogger, sleep, testEvent } from './testing/int-helpers';

jest.setTimeout(30_000);

/**
 * oldestUnackedAt against a real JetStream: a durable whose messages are held by a member that
 * pulled them and never acked (as a SIGKILLed one leaves them), acked one by one, with messages
 * of another subject of the same stream in between.
 */
describe('EventBus.oldestUnackedAt (real NATS)', () => {
  const namespace = testNamespace();
  const durable = 'oldest-unacked';
  let bus: EventBus;

  beforeAll(async () => {
    bus = await EventBus.connect({ name: 'messaging-test', namespace, logger: quietLogger });
    await bus.ensureStreams(['requests']);
  });

  afterAll(async () => {
    await deleteStreams(bus, ['requests']);
    await bus.drain();
  });

  it('is the stored time of the first message on the filter not acked, skipping other subjects, and undefined once all are acked', async () => {
    const stream = bus.streamName('requests');
    expect(await bus.oldestUnackedAt('requests', durable, SUBJECTS.requestEventsAll)).toBeUndefined();
    await bus.jsm.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: bus.naming.toWire(SUBJECTS.requestEventsAll),
    });
    expect(await bus.oldestUnackedAt('requests', durable, SUBJECTS.requestEventsAll)).toBeUndefined();

    // Events e0..e3, each followed by a message of the completed subject (outside the filter),
    // a few milliseconds apart so that their stored times differ.
    const storedAt = async (seq: number) => (await bus.jsm.streams.getMessage(stream, { seq }))?.time.getTime();
    const events: Array<{ seq: number; at: number | undefined }> = [];
    for (let i = 0; i < 4; i++) {
      const { seq } = await bus.publish(SUBJECTS.requestEvents('t1'), testEvent(`e${i}`, { i }));
      events.push({ seq, at: await storedAt(seq) });
      await sleep(5);
      await bus.publish(SUBJECTS.requestCompleted('t1'), testEvent(`c${i}`, { i }));
      await sleep(5);
    }
    const oldest = async () => (await bus.oldestUnackedAt('requests', durable, SUBJECTS.requestEventsAll))?.getTime();
    // Nothing delivered yet: the first event.
    expect(await oldest()).toBe(events[0].at);

    // A member pulls three and holds them.
    const consumer = await bus.js.consumers.get(stream, durable);
    const held = [];
    for await (const m of await consumer.fetch({ max_messages: 3, expires: 2_000 })) {
      held.push(m);
      if (held.length === 3) break;
    }
    expect(held.map((m) => m.seq)).toEqual(events.slice(0, 3).map((e) => e.seq));
    expect(await oldest()).toBe(events[0].at);

    // Acked out of order: the floor stays at the first until it is acked.
    await held[1].ackAck();
    expect(await oldest()).toBe(events[0].at);
    await held[0].ackAck();
    expect(await oldest()).toBe(events[2].at);
    await held[2].ackAck();
    // The last event was never delivered; a completed message lies between the floor and it.
    expect(await oldest()).toBe(events[3].at);

    const last = await consumer.next({ expires: 2_000 });
    expect(last?.seq).toBe(events[3].seq);
    await last?.ackAck();
    expect(await oldest()).toBeUndefined();
  });
});
