import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EVENT_TYPES, metricsBatchV2Schema, packedSampleCount, parseCloudEvent } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { createPool } from '@arcwatch/storage';
import {
  authFetch,
  createTestDatabase,
  eventually,
  freePort,
  startProcess,
  testNamespace,
  TEST_NATS_URL,
  type TestDatabase,
} from '@arcwatch/testing';
import type { Pool } from 'pg';
import { testEnv, startTargetServer, type TargetServer } from '../testing/harness';

/**
 * The collector is killed with SIGKILL while it scrapes and receives pushes, then started again.
 * Every batch that reached JetStream must be stored exactly once: the writer acks only after the
 * commit, JetStream redelivers what was not acked, and the store ignores a batch id it has.
 */
const startCollectorProcess = (env: Record<string, string>) =>
  startProcess('collector', 'services/collector/src/main.ts', [], env);

const EXPOSITION = [
  '# TYPE DCGM_FI_DEV_GPU_UTIL gauge',
  ...Array.from({ length: 8 }, (_, g) => `DCGM_FI_DEV_GPU_UTIL{gpu="${g}"} ${g * 10}`),
].join('\n');

describe('a collector killed with SIGKILL mid-stream', () => {
  let db: TestDatabase;
  let pool: Pool;
  let target: TargetServer;
  let bus: EventBus;
  let dir: string;
  const namespace = testNamespace();

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    target = await startTargetServer({ '/metrics': EXPOSITION });
    bus = await EventBus.connect({ url: TEST_NATS_URL, name: 'sigkill-test', namespace });
    dir = mkdtempSync(path.join(tmpdir(), 'collector-sigkill-'));
  });

  afterAll(async () => {
    await bus?.drain();
    await pool?.end();
    await db?.drop();
    await target?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing and duplicates nothing', async () => {
    const configFile = path.join(dir, 'collector.yml');
    writeFileSync(
      configFile,
      [
        'global: { scrape_interval: 200ms, scrape_timeout: 200ms }',
        'scrape_configs:',
        '  - job_name: gpu',
        `    static_configs: [{ targets: ["127.0.0.1:${target.port}"] }]`,
      ].join('\n'),
    );
    const port = await freePort();
    const env = testEnv(db, namespace, { COLLECTOR_PORT: String(port), COLLECTOR_CONFIG: configFile });

    let pushing = true;
    let pushes = 0;
    const pusher = (async () => {
      while (pushing) {
        const body = `pushed_total{seq="${pushes}"} ${pushes}\n`;
        await authFetch(
          `http://127.0.0.1:${port}/api/v1/import/prometheus?extra_label=job=pusher&extra_label=instance=test:1`,
          { method: 'POST', body, headers: { 'Content-Type': 'text/plain' } },
        ).then(
          () => pushes++,
          () => undefined,
        );
        await new Promise((r) => setTimeout(r, 15));
      }
    })();

    const first = startCollectorProcess(env);
    await eventually(
      async () => ((await authFetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined),
      30_000,
      'first collector ready',
    );
    // Let it scrape, push and write for a while, then kill it in the middle of all that.
    await eventually(
      async () => {
        const { rows } = await pool
          .query<{ n: string }>('SELECT count(*) AS n FROM collector.head')
          .catch(() => ({ rows: [{ n: '0' }] }));
        return Number(rows[0].n) >= 20 ? true : undefined;
      },
      30_000,
      'some batches stored',
    );
    await first.stop('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

    const second = startCollectorProcess(env);
    await eventually(
      async () => ((await authFetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined),
      30_000,
      'second collector ready',
    );
    await new Promise((r) => setTimeout(r, 1500));
    pushing = false;
    await pusher;
    await second.stop('SIGTERM');
    // Nest closes the app on SIGTERM, then re-raises the signal to end the process.
    expect(await second.exited).toEqual({ code: null, signal: 'SIGTERM' });

    // Everything JetStream holds, read straight from the stream.
    const stream = bus.streamName('metrics');
    const info = await bus.jsm.streams.info(stream);
    const published = new Map<string, number>();
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const msg = await bus.jsm.streams.getMessage(stream, { seq });
      // the collector publishes the packed form (COLLECTOR_BATCH_FORMAT defaults to v2)
      const parsed = parseCloudEvent(msg!.data, EVENT_TYPES.metricsBatchV2, metricsBatchV2Schema);
      if (!parsed.ok) throw new Error(parsed.reason);
      const b = parsed.event.data;
      expect(published.has(b.batchId)).toBe(false);
      published.set(b.batchId, packedSampleCount(b));
    }
    expect(published.size).toBeGreaterThan(30);

    // Batches published while the second process shut down may still wait in the stream: a
    // writer-only process drains them, as a replica would.
    const writer = startCollectorProcess({ ...env, COLLECTOR_ROLE: 'writer', COLLECTOR_CONFIG: '' });
    await eventually(
      async () => ((await authFetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined),
      30_000,
      'writer ready',
    );
    await eventually(
      async () => {
        const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM collector.head');
        return Number(rows[0].n) >= published.size ? true : undefined;
      },
      30_000,
      'writer caught up',
    );
    await writer.stop('SIGTERM');

    const { rows } = await pool.query<{ batch_id: string; samples: number }>(
      'SELECT batch_id, samples FROM collector.head',
    );
    const stored = new Map(rows.map((r) => [r.batch_id, r.samples]));
    const missing = [...published.keys()].filter((id) => !stored.has(id));
    expect(missing).toEqual([]);
    expect(stored.size).toBe(published.size);
    for (const [id, samples] of published) expect(stored.get(id)).toBe(samples);
    const { rows: logged } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM collector.batch_log');
    expect(Number(logged[0].n)).toBe(published.size);
    expect(pushes).toBeGreaterThan(10);
  });
});
