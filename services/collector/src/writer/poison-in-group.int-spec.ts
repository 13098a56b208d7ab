import {
  cloudEvent,
  deadLetterV1Schema,
  EVENT_TYPES,
  SUBJECTS,
  toMetricsBatchV2,
  type MetricsBatchV1,
  type MetricsBatchV2,
} from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { createTestDatabase, eventually, testNamespace, TEST_NATS_URL, type TestDatabase } from '@arcwatch/testing';
import pino from 'pino';
import { startCollector, type CollectorHarness } from '../testing/harness';

/**
 * The writer stores a group of messages with one transaction. Two bad messages sit among good
 * ones in the same group: one that is not a metrics batch at all, one that parses but that the
 * store refuses (a series without __name__). Each is dead-lettered alone with its reason; every
 * good batch is stored once.
 */
const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);

function batch(i: number, opts: { withoutName?: boolean } = {}): MetricsBatchV1 {
  const instance = `gpu-node-${i}:9400`;
  return {
    batchId: `group-${i}`,
    source: 'scrape',
    cluster: 'c1',
    node: `gpu-node-${i}`,
    target: { job: 'dcgm', instance },
    scrapedAtMs: T0,
    series: [0, 1, 2].map((gpu) => ({
      labels: {
        ...(opts.withoutName ? {} : { __name__: 'DCGM_FI_DEV_GPU_UTIL' }),
        gpu: String(gpu),
        job: 'dcgm',
        instance,
      },
      samples: [[T0, 10 * gpu + i]] as Array<[number, number]>,
    })),
  };
}

function event(b: MetricsBatchV1) {
  return cloudEvent({
    type: EVENT_TYPES.metricsBatch,
    source: '/test',
    id: b.batchId,
    data: b,
    time: new Date(b.scrapedAtMs),
  });
}

function packedEvent(b: MetricsBatchV2) {
  return cloudEvent({
    type: EVENT_TYPES.metricsBatchV2,
    source: '/test',
    id: b.batchId,
    data: b,
    time: new Date(b.scrapedAtMs),
  });
}

describe('the collector writer, one transaction per group of messages', () => {
  let db: TestDatabase;
  let bus: EventBus;
  let collector: CollectorHarness | undefined;
  const namespace = testNamespace();

  beforeAll(async () => {
    db = await createTestDatabase();
    bus = await EventBus.connect({
      url: TEST_NATS_URL,
      name: 'writer-group-test',
      namespace,
      logger: pino({ level: 'silent' }),
    });
    await bus.ensureStreams(['metrics', 'deadLetter']);
  });

  afterAll(async () => {
    await collector?.stop();
    await bus?.drain();
  });

  it('dead-letters a poison message alone and commits the rest of its group', async () => {
    const good = [1, 2, 3, 4, 5, 6].map((i) => batch(i));
    const items = [
      // v1 and v2 mixed in one group, as during a rolling deploy or beside tracing's v1 statistics
      ...good.slice(0, 2).map((b, i) => ({
        subject: SUBJECTS.metricsSamples('c1', b.node),
        event: i === 0 ? event(b) : packedEvent(toMetricsBatchV2(b)),
      })),
      // Not a metrics batch: samples is not a list of [time, value] pairs.
      {
        subject: SUBJECTS.metricsSamples('c1', 'bad-node'),
        event: cloudEvent({
          type: EVENT_TYPES.metricsBatch,
          source: '/test',
          id: 'bad-shape',
          data: { ...batch(90), series: [{ labels: { __name__: 'x' }, samples: 'none' }] },
        }),
      },
      ...good.slice(2, 4).map((b) => ({ subject: SUBJECTS.metricsSamples('c1', b.node), event: event(b) })),
      // Valid by the schema, refused by the store.
      {
        subject: SUBJECTS.metricsSamples('c1', 'gpu-node-91'),
        event: event({ ...batch(91, { withoutName: true }), batchId: 'no-name' }),
      },
      // Packed, valid by the schema, but a series text the store cannot read.
      {
        subject: SUBJECTS.metricsSamples('c1', 'gpu-node-92'),
        event: packedEvent({
          ...toMetricsBatchV2(batch(92)),
          batchId: 'bad-text',
          series: toMetricsBatchV2(batch(92)).series.map(() => 'up{gpu=0}'),
        }),
      },
      // A type the writer does not know.
      {
        subject: SUBJECTS.metricsSamples('c1', 'gpu-node-93'),
        event: cloudEvent({ type: 'io.arcwatch.metrics.batch.v3', source: '/test', id: 'other-type', data: batch(93) }),
      },
      ...good
        .slice(4)
        .map((b) => ({ subject: SUBJECTS.metricsSamples('c1', b.node), event: packedEvent(toMetricsBatchV2(b)) })),
    ];
    // Published before the writer starts, so its first pull takes them as one group.
    const published = await bus.publishMany(items);
    const seqOf = (id: string) => published[items.findIndex((it) => it.event.id === id)]!.seq;

    collector = await startCollector('', { db, namespace });
    const pool = collector.pool;
    await eventually(
      async () => {
        const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM collector.head');
        return Number(rows[0]!.n) >= good.length ? true : undefined;
      },
      20_000,
      'good batches stored',
    );

    const dlq = await eventually(
      async () => {
        const letters = await readDeadLetters(bus);
        return letters.length >= 4 ? letters : undefined;
      },
      20_000,
      'four dead letters',
    );
    expect(dlq.map((d) => d.seq).sort((a, b) => a - b)).toEqual(
      ['bad-shape', 'no-name', 'bad-text', 'other-type'].map(seqOf).sort((a, b) => a - b),
    );
    const bySeq = new Map(dlq.map((d) => [d.seq, d]));
    expect(bySeq.get(seqOf('bad-shape'))!.reason).toMatch(
      /invalid io\.arcwatch\.metrics\.batch\.v1 data: series\.0\.samples/,
    );
    expect(bySeq.get(seqOf('no-name'))!.reason).toMatch(
      /#\d+: batch no-name: series "\{gpu=\\"0\\",.*" has no __name__$/,
    );
    expect(bySeq.get(seqOf('bad-text'))!.reason).toMatch(
      /#\d+: batch bad-text: series text "up\{gpu=0\}" at 7: expected a quoted value$/,
    );
    expect(bySeq.get(seqOf('other-type'))!.reason).toMatch(
      /unexpected event type io\.arcwatch\.metrics\.batch\.v3 \(want io\.arcwatch\.metrics\.batch\.v1 or io\.arcwatch\.metrics\.batch\.v2\)/,
    );
    expect(bySeq.get(seqOf('no-name'))!.durable).toBe('collector-writer');

    const { rows } = await pool.query<{ batch_id: string; samples: number }>(
      'SELECT batch_id, samples FROM collector.head ORDER BY batch_id',
    );
    expect(rows).toEqual(good.map((b) => ({ batch_id: b.batchId, samples: 3 })));
    const [gpu2] = await collector.store.select(
      [
        { name: 'gpu', type: '=', value: '2' },
        { name: 'instance', type: '=', value: 'gpu-node-4:9400' },
      ],
      T0 - 1,
      T0 + 1,
    );
    expect(Array.from(gpu2!.values)).toEqual([24]);
    // Nothing is left unacked: the poison ones are terminated, the good ones acked.
    await eventually(
      async () => {
        const info = await bus.jsm.consumers.info(bus.streamName('metrics'), 'collector-writer');
        return info.num_ack_pending === 0 && info.num_pending === 0 ? true : undefined;
      },
      10_000,
      'all messages settled',
    );
  });
});

async function readDeadLetters(bus: EventBus) {
  const name = bus.streamName('deadLetter');
  const info = await bus.jsm.streams.info(name);
  const out = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await bus.jsm.streams.getMessage(name, { seq });
    if (m) out.push(deadLetterV1Schema.parse(m.json<{ data: unknown }>().data));
  }
  return out;
}
