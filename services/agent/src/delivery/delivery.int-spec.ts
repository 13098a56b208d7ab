import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeFrame } from '@arcwatch/gpu-telemetry';
import { ManualClock } from '@arcwatch/runtime';
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

  // The case by default: NATS stopped for a minute under a 1 s interval (about 75 s in all).
  // AGENT_TEST_OUTAGE_MS / AGENT_TEST_INTERVAL_MS shorten it for a quick local run.
  const outageMs = Number(process.env.AGENT_TEST_OUTAGE_MS ?? 60_000);
  const intervalMs = Number(process.env.AGENT_TEST_INTERVAL_MS ?? 1000);

  it(
    'loses nothing while NATS is stopped for a minute at a 1 s interval: every batch from before, during and after arrives once, in order',
    async () => {
      const namespace = testNamespace();
      const spool = tempDir('agent-spool-');
      const agent = await startAgent(
        'h100x8',
        {
          NATS_URL: nats.url,
          NATS_NAMESPACE: namespace,
          AGENT_INTERVAL_MS: String(intervalMs),
          AGENT_SPOOL_DIR: spool,
        },
        { disableTimer: true },
      );
      // Every batch handed to delivery, in order, with the phase of the outage it was taken in.
      type Phase = 'before' | 'during' | 'after';
      let phase: Phase = 'before';
      const handed: Array<{ id: string; phase: Phase }> = [];
      const deliver = agent.delivery.deliver.bind(agent.delivery);
      agent.delivery.deliver = (items) => {
        for (const o of items) if (o.kind === 'batch') handed.push({ id: o.event.id, phase });
        return deliver(items);
      };
      const count = (p: Phase) => handed.filter((h) => h.phase === p).length;
      try {
        agent.loop.start();
        await eventually(
          async () =>
            (await agent.registry.value('arcwatch_agent_published_total', { kind: 'batch' })) >= 3 ? true : undefined,
          20_000,
          'first batches',
        );

        phase = 'during';
        await nats.kill();
        await new Promise((r) => setTimeout(r, outageMs));
        await nats.restart();
        phase = 'after';

        await eventually(
          () =>
            agent.delivery.spool.stats().pendingRecords === 0 && agent.delivery.connected() && count('after') >= 3
              ? true
              : undefined,
          30_000,
          'spool replayed and new batches published directly',
        );
        expect(agent.logs.some((l) => l.msg === 'spool replayed')).toBe(true);
      } finally {
        await agent.close();
      }
      const registry = agent.registry;
      // A minute at 1 s: about 60 batches taken while NATS was away (a tick is skipped only if the last one still ran).
      expect(count('during')).toBeGreaterThanOrEqual(Math.floor((outageMs / intervalMs) * 0.9));
      expect(count('during')).toBeLessThanOrEqual(Math.ceil(outageMs / intervalMs) + 1);
      expect(await registry.value('arcwatch_agent_spooled_total')).toBeGreaterThanOrEqual(count('during'));
      expect(await registry.value('arcwatch_agent_spool_dropped_total')).toBe(0);
      expect(await registry.value('arcwatch_agent_batches_built_total', { job: 'arcwatch-agent' })).toBe(handed.length);

      const stored = (await readStream(nats.url, namespace, 'metrics')).map((m) => m.event.data as BatchData);
      // Exactly the batches taken, each once, in the order they were taken: before, during, after.
      expect(stored.map((b) => b.batchId)).toEqual(handed.map((h) => h.id));
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
      const registry = agent.registry;
      expect(await registry.value('arcwatch_agent_spool_dropped_total')).toBe(st.droppedRecords);
      // The same figures on the agent's /metrics, as an operator's Prometheus reads them.
      const text = await (await fetch(`${agent.url}/metrics`)).text();
      expect(text).toContain(`arcwatch_agent_spool_dropped_total ${st.droppedRecords}\n`);
      expect(text).toContain(`arcwatch_agent_spool_pending ${st.pendingRecords}\n`);
      expect(await registry.value('arcwatch_agent_spool_pending')).toBe(st.pendingRecords);
      const warned = agent.logs.filter((l) => l.msg === 'spool full: oldest messages dropped');
      expect(warned.reduce((n, l) => n + (l.records as number), 0)).toBe(st.droppedRecords);
      expect(st.pendingRecords + st.droppedRecords).toBe(40);
      // Spooling is working: readiness does not hang on NATS.
      const ready = await fetch(`${agent.url}/readyz`);
      expect(ready.status).toBe(200);

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

  it('signs in as its own NATS user (NATS_USER, NATS_PASSWORD_FILE) and spools while the password is wrong', async () => {
    const own = await startNatsServer(undefined, ['--user', 'agent', '--pass', 'agent-secret']);
    const dir = tempDir('agent-auth-');
    const passwordFile = path.join(dir, 'password');
    fs.writeFileSync(passwordFile, 'agent-secret\n');
    const clock = new ManualClock(Date.UTC(2026, 11, 3, 14));
    const env = { NATS_URL: own.url, NATS_NAMESPACE: testNamespace(), NATS_USER: 'agent' };
    const wrong = await startAgent(
      'l4-na',
      { ...env, NATS_PASSWORD: 'not-the-password', AGENT_SPOOL_DIR: path.join(dir, 'spool-wrong') },
      { clock, disableTimer: true },
    );
    const right = await startAgent(
      'l4-na',
      { ...env, NATS_PASSWORD_FILE: passwordFile, AGENT_SPOOL_DIR: path.join(dir, 'spool-right') },
      { clock, disableTimer: true },
    );
    try {
      await eventually(() => (right.delivery.connected() ? true : undefined), 20_000, 'connection as agent');
      await right.loop.tick();
      await wrong.loop.tick();
      expect(right.delivery.spool.stats().pendingRecords).toBe(0);
      expect(await right.registry.value('arcwatch_agent_published_total', { kind: 'batch' })).toBe(1);
      expect(wrong.delivery.connected()).toBe(false);
      expect(wrong.delivery.spool.stats().pendingRecords).toBe(1);
      const stored = await readStream(own.url, env.NATS_NAMESPACE, 'metrics', { user: 'agent', pass: 'agent-secret' });
      expect(stored.map((m) => (m.event.data as BatchData).scrapedAtMs)).toEqual([Date.UTC(2026, 11, 3, 14)]);
    } finally {
      await right.close();
      await wrong.close();
      await own.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
