import { SUBJECTS } from '@arcwatch/contracts';
import { testNamespace } from '@arcwatch/testing';
import { EventBus } from './event-bus';
import { MessagingError } from './errors';
import { deleteStreams, quietLogger, readStream, testEvent } from './testing/int-helpers';

// The project-level testTimeout in jest.config.js does not reach project runs in jest 30.
jest.setTimeout(30_000);

describe('EventBus publishing (real NATS)', () => {
  const namespace = testNamespace();
  let bus: EventBus;

  beforeAll(async () => {
    bus = await EventBus.connect({ name: 'messaging-test', namespace, logger: quietLogger });
    await bus.ensureStreams(['metrics', 'requests', 'deadLetter']);
  });

  afterAll(async () => {
    await deleteStreams(bus);
    await bus.drain();
  });

  it('stores an event once when the same id is published twice', async () => {
    const subject = SUBJECTS.metricsSamples('c1', 'n1');
    const event = testEvent('dedup-1', { n: 1 });
    const first = await bus.publish(subject, event);
    const second = await bus.publish(subject, { ...event, data: { n: 2 } });
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ seq: first.seq, duplicate: true });
    const stored = await readStream<{ id: string; data: unknown }>(bus, 'metrics');
    expect(stored.filter((m) => m.body.id === 'dedup-1').map((m) => m.body.data)).toEqual([{ n: 1 }]);
  });

  it('publishes into the namespace: the stream holds the canonical subject under the prefix', async () => {
    const info = await bus.jsm.streams.info(bus.streamName('requests'));
    expect(info.config.name).toBe(`${namespace.toUpperCase()}_AW_REQUESTS`);
    expect(info.config.subjects).toEqual([`${namespace}.aw.requests.v1.>`]);
    expect(info.config.duplicate_window).toBe(120_000_000_000);
    expect(info.config.storage).toBe('file');
  });

  it('ensureStreams is idempotent and applies limits only when asked', async () => {
    await bus.ensureStreams(['requests']);
    await bus.ensureStreams(['requests'], { maxAgeMs: 3_600_000, maxBytes: 1 << 20 });
    await bus.ensureStreams(['requests']);
    const info = await bus.jsm.streams.info(bus.streamName('requests'));
    expect(info.config.max_age).toBe(3_600_000 * 1_000_000);
    expect(info.config.max_bytes).toBe(1 << 20);
  });

  it('publishMany keeps input order, stores each id once, and reports duplicates', async () => {
    const items = Array.from({ length: 300 }, (_, i) => ({
      subject: SUBJECTS.requestEvents(`tenant-${i % 3}`),
      event: testEvent(`many-${i % 250}`, { i }),
    }));
    const results = await bus.publishMany(items, { maxInFlight: 64 });
    expect(results).toHaveLength(300);
    expect(results.slice(0, 250).every((r) => !r.duplicate)).toBe(true);
    expect(results.slice(250).every((r) => r.duplicate)).toBe(true);
    expect(results[260].seq).toBe(results[10].seq);
    const info = await bus.jsm.streams.info(bus.streamName('requests'));
    expect(info.state.messages).toBe(250);
  });

  it('fails with PUBLISH_FAILED naming the subject when no stream takes it', async () => {
    const err = await bus.publish('aw.cost.v1.allocated.t1', testEvent('nostream', {})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MessagingError);
    expect((err as MessagingError).code).toBe('PUBLISH_FAILED');
    expect((err as MessagingError).message).toMatch(/aw\.cost\.v1\.allocated\.t1/);
  });
  it('rejects a bad consumer config with CONSUMER_CONFIG_INVALID naming the field', async () => {
    const base = {
      stream: 'requests' as const,
      filterSubject: SUBJECTS.requestEventsAll,
      handler: async () => undefined,
    };
    const codeAndMessage = async (p: Promise<unknown>) => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MessagingError);
      return `${(err as MessagingError).code} ${(err as MessagingError).message}`;
    };
    expect(await codeAndMessage(bus.consume({ ...base, durable: 'a.b' }))).toMatch(
      /CONSUMER_CONFIG_INVALID .*durable name "a\.b"/,
    );
    expect(await codeAndMessage(bus.consume({ ...base, durable: 'ok', batch: 0 }))).toMatch(
      /CONSUMER_CONFIG_INVALID .*batch must be a positive integer, got 0/,
    );
    expect(
      await codeAndMessage(bus.consume({ ...base, durable: 'ok', filterSubject: SUBJECTS.metricsSamplesAll })),
    ).toMatch(/filter aw\.metrics\.v1\.samples\.> is outside stream AW_REQUESTS/);
    const h = await bus.consume({ ...base, durable: 'refiltered' });
    await h.stop();
    expect(
      await codeAndMessage(
        bus.consume({ ...base, durable: 'refiltered', filterSubject: SUBJECTS.requestCompletedAll }),
      ),
    ).toMatch(
      /durable refiltered .* filters .*aw\.requests\.v1\.events\.>, not .*aw\.requests\.v1\.completed\.>; use a new durable name/,
    );
  });
});
