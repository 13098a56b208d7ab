/**
 * Test kit for the agent's integration specs: an agent app in-process against the stand-in
 * nvidia-smi, a NATS server of the test's own (killed and restarted by PID), and readers for
 * what reached JetStream.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { STREAMS, type StreamKey } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { freePort, REPO_ROOT, startPeer, type RunningProcess } from '@arcwatch/testing';
import pino from 'pino';
import type { AgentLoop } from '../agent.loop';
import { createAgent, type Agent } from '../app';
import { loadAgentEnv } from '../config';
import { loadAgentSettings, type AgentSettings } from '../config/agent-settings.loader';
import type { DeliveryService } from '../delivery/delivery.service';
import type { Clock, MetricsRegistry } from '../runtime-lite';

export const STAND_IN = path.join(REPO_ROOT, 'libs', 'gpu-telemetry', 'fixtures', 'nvidia-smi', 'nvidia-smi');

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface AgentUnderTest {
  agent: Agent;
  settings: AgentSettings;
  registry: MetricsRegistry;
  /** Base URL of its HTTP server (/healthz, /readyz, /metrics), on a free loopback port. */
  url: string;
  loop: AgentLoop;
  delivery: DeliveryService;
  /** Every log line the agent wrote (pino JSON, parsed). */
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** An agent with the given AGENT_* environment and YAML file, reading the stand-in `scenario`. */
export async function startAgent(
  scenario: string,
  envVars: Record<string, string>,
  opts: { yaml?: string; clock?: Clock; disableTimer?: boolean } = {},
): Promise<AgentUnderTest> {
  process.env.NVIDIA_SMI_FIXTURE = scenario;
  const env = loadAgentEnv({
    AGENT_NVIDIA_SMI: STAND_IN,
    AGENT_CLUSTER: 'c1',
    AGENT_HOSTNAME: 'gpu-node-001',
    LOG_LEVEL: 'info',
    ...envVars,
  });
  const settings = loadAgentSettings(
    env,
    opts.yaml === undefined ? undefined : { text: opts.yaml, name: 'agent.yaml' },
  );
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'info', base: { service: 'agent' } }, sink);
  const agent = createAgent({
    settings,
    logger,
    ...(opts.clock ? { clock: opts.clock } : {}),
    disableTimer: opts.disableTimer,
  });
  const port = await agent.start({ port: 0, host: '127.0.0.1' });
  return {
    agent,
    settings,
    registry: agent.registry,
    url: `http://127.0.0.1:${port}`,
    loop: agent.loop,
    delivery: agent.delivery,
    logs,
    close: () => agent.close(),
  };
}

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  proc: RunningProcess;
  /** Kills it by PID (SIGKILL: like a crash or a cut network) and waits for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port and store. */
  restart(): Promise<void>;
  /** Kills it and removes its store. */
  dispose(): Promise<void>;
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.end(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nats-server on ${port} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A nats-server with JetStream of the test's own, on `port` (default: a free one), storing under a temp dir; `args` added (e.g. --user / --pass). */
export async function startNatsServer(port?: number, args: string[] = []): Promise<NatsServer> {
  port ??= await freePort();
  const storeDir = tempDir('agent-nats-');
  const launch = async (): Promise<RunningProcess> => {
    const p = startPeer('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, ...args]);
    await waitForPort(port!);
    return p;
  };
  const server: NatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    proc: await launch(),
    async kill() {
      await server.proc.stop('SIGKILL');
    },
    async dispose() {
      await server.proc.stop('SIGKILL');
      fs.rmSync(storeDir, { recursive: true, force: true });
    },
    async restart() {
      server.proc = await launch();
    },
  };
  return server;
}

/** Everything stored in a stream of `namespace`, oldest first, as CloudEvents. */
export async function readStream(
  url: string,
  namespace: string | undefined,
  key: StreamKey,
  auth?: { user: string; pass: string },
): Promise<Array<{ subject: string; event: Record<string, unknown> }>> {
  const bus = await EventBus.connect({
    url,
    name: 'agent-test-reader',
    namespace,
    logger: pino({ level: 'silent' }),
    ...(auth ?? {}),
  });
  try {
    const name = bus.streamName(key);
    const info = await bus.jsm.streams.info(name).catch(() => undefined);
    const out: Array<{ subject: string; event: Record<string, unknown> }> = [];
    if (!info || info.state.messages === 0) return out;
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await bus.jsm.streams.getMessage(name, { seq }).catch(() => null);
      if (m) out.push({ subject: bus.naming.fromWire(m.subject), event: m.json<Record<string, unknown>>() });
    }
    return out;
  } finally {
    await bus.drain();
  }
}

/** Removes a namespace's streams from a shared NATS. */
export async function deleteStreams(url: string, namespace: string): Promise<void> {
  const bus = await EventBus.connect({ url, name: 'agent-test-cleanup', namespace, logger: pino({ level: 'silent' }) });
  for (const key of Object.keys(STREAMS) as StreamKey[])
    await bus.jsm.streams.delete(bus.streamName(key)).catch(() => false);
  await bus.drain();
}
