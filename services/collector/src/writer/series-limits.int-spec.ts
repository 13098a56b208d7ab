import { cloudEvent, deadLetterV1Schema, EVENT_TYPES, SUBJECTS, type MetricsBatchV1 } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import {
  authFetch,
  createTestDatabase,
  eventually,
  testNamespace,
  TEST_NATS_URL,
  type TestDatabase,
} from '@arcwatch/testing';
import pino from 'pino';
import { startCollector, type CollectorHarness } from '../testing/harness';

/**
 * Cardinality guards against the real PostgreSQL and NATS: the store-wide series limit
 * (COLLECTOR_MAX_SERIES) refuses only the batches that would pass it, even inside one group of
 * messages; the per-target series_limit of the config file applies to pushed text as to scrapes.
 */
const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);

function batch(id: string, instance: string, gpus: number[]): MetricsBatchV1 {
  return {
    batchId: id,
    source: 'scrape',
    cluster: 'c1',
    node: instance,
    target: { job: 'dcgm', instance },
    scrapedAtMs: T0,
    series: gpus.map((gpu) => ({
      labels: { __name__: 'DCGM_FI_DEV_GPU_UTIL', gpu: String(gpu), job: 'dcgm', instance },
      samples: [[T0, gpu]] as Array<[number, number]>,
    })),
  };
}

describe('series limits', () => {
  let db: TestDatabase;
  let bus: EventBus;
  let collector: CollectorHarness | undefined;
  const namespace = testNamespace();

  beforeAll(async () => {
    db = await createTestDatabase();
    bus = await EventBus.connect({
      url: TEST_NATS_URL,
      name: 'series-limit-test',
      namespace,
      logger: pino({ level: 'silent' }),
    });
    await bus.ensureStreams(['metrics', 'deadLetter']);
  });

  afterAll(async () => {
    await collector?.stop();
    await bus?.drain();
  });

  it('the store-wide limit dead-letters only the batch over it; the rest of its group is stored', async () => {
    // 5 series at most: a (2) and b (2) fit, c (3 new) would make 7, d (1 new) still fits after c is refused
    const batches = [
      batch('a', 'n-a', [0, 1]),
      batch('b', 'n-b', [0, 1]),
      batch('c', 'n-c', [0, 1, 2]),
      batch('d', 'n-d', [0]),
    ];
    const items = batches.map((b) => ({
      subject: SUBJECTS.metricsSamples('c1', b.node),
      event: cloudEvent({ type: EVENT_TYPES.metricsBatch, source: '/test', id: b.batchId, data: b }),
    }));
    const published = await bus.publishMany(items); // before the writer starts: one group
    collector = await startCollector(['arcwatch:', '  series_limit: 2'].join('\n'), {
      db,
      namespace,
      env: { COLLECTOR_MAX_SERIES: '5' },
    });
    const pool = collector.pool;
    await eventually(
      async () => {
        const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM collector.head');
        return Number(rows[0]!.n) >= 3 ? true : undefined;
      },
      20_000,
      'three batches stored',
    );
    const letters = await eventually(
      async () => {
        const l = await readDeadLetters(bus);
        return l.length >= 1 ? l : undefined;
      },
      20_000,
      'one dead letter',
    );
    expect(letters.map((l) => l.seq)).toEqual([published[2]!.seq]);
    expect(letters[0]!.reason).toMatch(/SERIES_LIMIT_EXCEEDED: 3 new series would exceed the limit of 5$/);
    const { rows } = await pool.query<{ batch_id: string }>('SELECT batch_id FROM collector.head ORDER BY batch_id');
    expect(rows.map((r) => r.batch_id)).toEqual(['a', 'b', 'd']);
    const metrics = await (await authFetch(`${collector.url}/metrics`)).text();
    expect(metrics).toMatch(/arcwatch_collector_writer_batches_total\{result="series_limit"\} 1/);
  });

  it('a push keeps a target within its series_limit: known series stay, new ones past it are dropped and counted', async () => {
    // a collector of its own: the first one's store is full
    const c = await startCollector(['arcwatch:', '  series_limit: 2'].join('\n'));
    try {
      const push = (body: string) =>
        authFetch(`${c.url}/api/v1/import/prometheus`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain' },
          body,
        });
      const line = (gpu: number, v: number, instance = 'p-1') =>
        `DCGM_FI_DEV_GPU_UTIL{job="pushed",instance="${instance}",gpu="${gpu}"} ${v} ${T0 + 60_000 * v}`;
      expect((await push([line(0, 1), line(1, 1), line(2, 1)].join('\n') + '\n')).status).toBe(204);
      expect((await push([line(2, 2), line(1, 2), line(3, 2)].join('\n') + '\n')).status).toBe(204);
      expect((await push([line(5, 3, 'p-2')].join('\n') + '\n')).status).toBe(204); // another target, its own budget
      const sel = [{ name: 'job', type: '=' as const, value: 'pushed' }];
      const stored = await eventually(
        async () => {
          const s = await c.store.select(sel, T0, T0 + 600_000);
          return s.reduce((n, x) => n + x.values.length, 0) >= 4 ? s : undefined;
        },
        20_000,
        'pushed samples stored',
      );
      const byGpu = Object.fromEntries(
        stored.map((s) => [`${s.labels.instance}/${s.labels.gpu}`, Array.from(s.values)]),
      );
      expect(byGpu).toEqual({ 'p-1/0': [1], 'p-1/1': [1, 2], 'p-2/5': [3] });
      const text = await (await authFetch(`${c.url}/metrics`)).text();
      expect(text).toMatch(/arcwatch_collector_series_dropped_by_limit_total\{job="pushed"\} 3/);
    } finally {
      await c.stop();
    }
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
