import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeFrame } from '@arcwatch/gpu-telemetry';
import { MetricsRegistry, ManualClock } from '@arcwatch/runtime';
import { eventually, freePort, testNamespace } from '@arcwatch/testing';
import { readStream, startAgent, startNatsServer, tempDir, type NatsServer } from '../testing/agent-harness';

interface BatchData {
  batchId: string;
  scrapedAtMs: number;
  target: { job: string };
}

describe('agent delivery: NATS away and back', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats.dispose();
  });

  // AGENT_TEST_OUTAGE_MS=60000 AGENT_TEST_INTERVAL_MS=1000 runs the case (a minute at 1 s); the default is short.
  const outageMs = Number(process.env.AGENT_TEST_OUTAGE_MS ?? 2500);
  const intervalMs = process.env.AGENT_TEST_INTERVAL_MS ?? '200';

  it(
    'loses nothing while NATS is stopped at a short interval, and replays in order when it returns',
    async () => {
      const namespace = testNamespace();
      const spool = tempDir('agent-spool-');
      const agent = await startAgent('h100x8', {
        NATS_URL: nats.url,
        NATS_NAMESPACE: namespace,
        AGENT_INTERVAL_MS: intervalMs,
        AGENT_SPOOL_DIR: spool,
      });
      try {
        const registry = agent.app.get(MetricsRegistry);
        await eventually(
          async () =>
            (await registry.value('arcwatch_agent_published_total', { kind: 'batch' })) >= 3 ? true : undefined,
          20_000,
          'first batches',
        );

        await nats.kill();
        const killedAt = Date.now();
        // Several intervals with NATS gone: the batches go to the spool.
        await eventually(
          () => (agent.delivery.spool.stats().pendingRecords >= 10 ? true : undefined),
          20_000 + outageMs,
          'spooled batches',
        );
        await new Promise((r) => setTimeout(r, Math.max(0, outageMs - (Date.now() - killedAt))));

        await nats.restart();
        await eventually(
          () => (agent.delivery.spool.stats().pendingRecords === 0 && agent.delivery.connected() ? true : undefined),
          30_000,
          'spool replayed',
        );
        expect(agent.logs.some((l) => l.msg === 'spool replayed')).toBe(true);
      } finally {
        await agent.close();
      }
      const registry = agent.app.get(MetricsRegistry);
      const built = await registry.value('arcwatch_agent_batches_built_total', { job: 'arcwatch-agent' });
      const spooled = await registry.value('arcwatch_agent_spooled_total');
      expect(spooled).toBeGreaterThanOrEqual(10);
      expect(await registry.value('arcwatch_agent_spool_dropped_total')).toBe(0);

      const stored = (await readStream(nats.url, namespace, 'metrics')).map((m) => m.event.data as BatchData);
      // Every batch built is stored exactly once, in the order it was taken.
      expect(stored.length).toBe(built);
      expect(new Set(stored.map((b) => b.batchId)).size).toBe(built);
      for (let i = 1; i < stored.length; i++)
        expect(stored[i]!.scrapedAtMs).toBeGreaterThan(stored[i - 1]!.scrapedAtMs);
      fs.rmSync(spool, { recursive: true, force: true });
    },
    120_000 + outageMs * 2,
  );

  it('drops the oldest batches when the spool is full, says so in its metrics and logs, and delivers the rest in order', async () => {
    const port = await freePort();
    const namespace = testNamespace();
    const spool = tempDir('agent-spool-');
    const clock = new ManualClock(Date.UTC(2026, 11, 3, 12));
    // No server on this port yet: every batch goes to the spool, which holds only a few.
    const agent = await startAgent(
      'l4-na',
      {
        NATS_URL: `nats://127.0.0.1:${port}`,
        NATS_NAMESPACE: namespace,
        AGENT_SPOOL_DIR: spool,
        AGENT_SPOOL_MAX_BYTES: '40000',
      },
      { clock, disableTimer: true },
    );
    let own: NatsServer | undefined;
    try {
      for (let i = 0; i < 40; i++) {
        await agent.loop.tick();
        clock.advance(1000);
      }
      const st = agent.delivery.spool.stats();
      expect(st.diskBytes).toBeLessThanOrEqual(40000);
      expect(st.droppedRecords).toBeGreaterThan(0);
      const registry = agent.app.get(MetricsRegistry);
      expect(await registry.value('arcwatch_agent_spool_dropped_total')).toBe(st.droppedRecords);
      expect(await registry.value('arcwatch_agent_spool_pending')).toBe(st.pendingRecords);
      const warned = agent.logs.filter((l) => l.msg === 'spool full: oldest messages dropped');
      expect(warned.reduce((n, l) => n + (l.records as number), 0)).toBe(st.droppedRecords);
      expect(st.pendingRecords + st.droppedRecords).toBe(40);
      // Spooling is working: readiness does not hang on NATS.
      const ready = await agent.app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(200);

      // NATS comes up on that port: the newest batches arrive, oldest first.
      own = await startNatsServer(port);
      await eventually(() => (agent.delivery.connected() ? true : undefined), 20_000, 'connection');
      // The next interval's batch joins the back of the full spool (one more oldest dropped), then all is replayed.
      await agent.loop.tick();
      const after = agent.delivery.spool.stats();
      expect(after.pendingRecords).toBe(0);
      expect(after.droppedRecords).toBeGreaterThanOrEqual(st.droppedRecords);
      const stored = (await readStream(own.url, namespace, 'metrics')).map(
        (m) => (m.event.data as BatchData).scrapedAtMs,
      );
      const start = Date.UTC(2026, 11, 3, 12);
      const kept = 41 - after.droppedRecords;
      expect(stored).toEqual(Array.from({ length: kept }, (_, i) => start + (after.droppedRecords + i) * 1000));
    } finally {
      await agent.close();
      await own?.dispose();
      fs.rmSync(spool, { recursive: true, force: true });
    }
  }, 120_000);

  it('resumes its spool after a restart with a torn last write', async () => {
    const port = await freePort();
    const namespace = testNamespace();
    const spool = tempDir('agent-spool-');
    const clock = new ManualClock(Date.UTC(2026, 11, 3, 13));
    const env = { NATS_URL: `nats://127.0.0.1:${port}`, NATS_NAMESPACE: namespace, AGENT_SPOOL_DIR: spool };
    const first = await startAgent('l4-na', env, { clock, disableTimer: true });
    for (let i = 0; i < 5; i++) {
      await first.loop.tick();
      clock.advance(1000);
    }
    await first.close();
    // A record whose frame is intact but whose text is not a message, then a crash in the middle of a write.
    const seg = fs
      .readdirSync(spool)
      .filter((n) => n.endsWith('.seg'))
      .sort()
      .pop()!;
    fs.appendFileSync(path.join(spool, seg), encodeFrame(Buffer.from('not a message')));
    fs.appendFileSync(path.join(spool, seg), Buffer.from([0x10, 0x27, 0, 0, 1, 2, 3, 4, 5]));

    const own = await startNatsServer(port);
    const second = await startAgent('l4-na', env, { clock, disableTimer: true });
    try {
      expect(
        second.logs.some((l) => l.msg === 'spool segment torn by a crash: the intact part is kept' && l.cutBytes === 9),
      ).toBe(true);
      expect(second.delivery.spool.stats().pendingRecords).toBe(6);
      await eventually(() => (second.delivery.connected() ? true : undefined), 20_000, 'connection');
      await second.loop.tick();
      expect(second.logs.filter((l) => l.msg === 'unreadable spool record skipped').map((l) => l.code)).toEqual([
        'SPOOL_RECORD_INVALID',
      ]);
      const stored = (await readStream(own.url, namespace, 'metrics')).map(
        (m) => (m.event.data as BatchData).scrapedAtMs,
      );
      const t0 = Date.UTC(2026, 11, 3, 13);
      expect(stored).toEqual([0, 1, 2, 3, 4, 5].map((i) => t0 + i * 1000));
    } finally {
      await second.close();
      await own.dispose();
      fs.rmSync(spool, { recursive: true, force: true });
    }
  }, 120_000);
});
