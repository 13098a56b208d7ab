import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cloudEvent, SUBJECTS } from '@arcwatch/contracts';
import { eventually, freePortRange, startPeer, testNamespace, type RunningProcess } from '@arcwatch/testing';
import { EventBus } from './event-bus';

/**
 * A three-node NATS cluster with JetStream on loopback ports, streams with three replicas: one
 * node stopped while events are being published loses nothing, and the durable consumer reads
 * every event exactly once (by id) after the node is gone.
 */
const NODES = 3;

function portOpen(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(undefined));
  });
}

describe('JetStream on a three-node cluster', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-cluster-'));
  const nodes: RunningProcess[] = [];
  let clientPorts: number[] = [];

  beforeAll(async () => {
    const base = await freePortRange(NODES * 2);
    clientPorts = Array.from({ length: NODES }, (_, i) => base + i);
    const routePorts = Array.from({ length: NODES }, (_, i) => base + NODES + i);
    const routes = routePorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
    for (let i = 0; i < NODES; i++) {
      nodes.push(
        startPeer('nats-server', [
          '-js',
          '-a',
          '127.0.0.1',
          '-p',
          String(clientPorts[i]),
          '-n',
          `aw-n${i}`,
          '--cluster_name',
          'aw-test',
          '--cluster',
          `nats://127.0.0.1:${routePorts[i]}`,
          '--routes',
          routes,
          '-sd',
          path.join(dir, `n${i}`),
        ]),
      );
    }
    for (const p of clientPorts) await eventually(() => portOpen(p), 15_000, `nats node on ${p}`);
  });

  afterAll(async () => {
    for (const n of nodes) await n.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every event published while one node is stopped, with three replicas', async () => {
    const url = clientPorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
    const namespace = testNamespace();
    // JetStream needs a meta leader before it takes a stream: retry the first calls for a while.
    const bus = await eventually(
      async () => {
        const b = await EventBus.connect({ url, name: 'cluster-test', namespace, publishTimeoutMs: 10_000 });
        try {
          await b.ensureStreams(['requests'], { replicas: 3 });
          return b;
        } catch (err) {
          await b.drain();
          throw err;
        }
      },
      30_000,
      'a stream with three replicas',
    );
    try {
      expect((await bus.jsm.streams.info(bus.streamName('requests'))).config.num_replicas).toBe(3);
      const subject = SUBJECTS.requestCompleted('acme');
      const event = (i: number) =>
        cloudEvent({ id: `evt-${i}`, type: 'io.arcwatch.test.v1', source: 'test', data: { i } });
      const sent = new Set<string>();
      const publish = async (from: number, to: number) => {
        for (let i = from; i < to; i++) {
          // A publish that lands during the failover is retried with the same id: JetStream keeps one copy.
          await eventually(async () => (await bus.publish(subject, event(i)), true), 20_000, `publish ${i}`);
          sent.add(`evt-${i}`);
        }
      };
      await publish(0, 200);
      // Stop a node that the client is not necessarily on; the cluster keeps a quorum of two.
      await nodes[2].stop('SIGKILL');
      await publish(200, 400);

      const seen = new Map<string, number>();
      // The stream's leader may still be moving off the stopped node: creating the consumer is retried.
      const handle = await eventually(
        () =>
          bus.consume({
            stream: 'requests',
            durable: 'cluster-reader',
            filterSubject: SUBJECTS.requestCompletedAll,
            handler: async (m) => {
              const id = (JSON.parse(Buffer.from(m.data).toString('utf8')) as { id: string }).id;
              seen.set(id, (seen.get(id) ?? 0) + 1);
            },
          }),
        30_000,
        'the consumer on the cluster',
      );
      await eventually(() => (seen.size === 400 ? true : undefined), 30_000, 'all 400 events consumed');
      await handle.stop();
      expect([...seen.keys()].sort()).toEqual([...sent].sort());
      expect((await bus.jsm.streams.info(bus.streamName('requests'))).state.messages).toBe(400);
    } finally {
      await bus.drain();
    }
  });
});
