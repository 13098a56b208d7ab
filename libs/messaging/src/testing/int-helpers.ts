import { cloudEvent, STREAMS, type CloudEvent, type StreamKey } from '@arcwatch/contracts';
import { spawn } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';
import { REPO_ROOT } from '@arcwatch/testing';
import type { EventBus } from '../event-bus';
import type { MessagingLogger } from '../logger';

/** Integration tests only: quiet logs unless a test asks for them. */
export const quietLogger: MessagingLogger = pino({ level: 'silent' });

export const ALL_STREAM_KEYS = Object.keys(STREAMS) as StreamKey[];

/** Removes this namespace's streams (and with them their consumers). */
export async function deleteStreams(bus: EventBus, keys: readonly StreamKey[] = ALL_STREAM_KEYS): Promise<void> {
  for (const key of keys) {
    await bus.jsm.streams.delete(bus.streamName(key)).catch(() => false);
  }
}

export function testEvent(id: string, data: unknown, type = 'io.arcwatch.test.v1'): CloudEvent<unknown> {
  return cloudEvent({ id, type, source: 'test', data });
}

/** The stored messages of a stream, oldest first, decoded as JSON (for asserting on a DLQ). */
export async function readStream<T>(bus: EventBus, key: StreamKey): Promise<Array<{ subject: string; body: T }>> {
  const name = bus.streamName(key);
  const info = await bus.jsm.streams.info(name);
  const out: Array<{ subject: string; body: T }> = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await bus.jsm.streams.getMessage(name, { seq }).catch(() => null);
    if (m) out.push({ subject: bus.naming.fromWire(m.subject), body: m.json<T>() });
  }
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The crash-consumer fixture running as a child process (crash-consumer.fixture.ts). */
export interface CrashConsumer {
  /** What it printed on stdout so far (READY, then IN_HANDLER <ids> once it holds them). */
  out(): string;
  err(): string;
  /** SIGKILL, resolved with the signal it exited on. */
  kill(): Promise<NodeJS.Signals | null>;
}

/**
 * Starts the fixture: a member of `durable` that commits what it is handed and then hangs in its
 * handler without acking, until the test kills it. `mode: 'batch'` consumes with consumeBatch.
 */
export function startCrashConsumer(env: {
  namespace: string;
  durable: string;
  subject: string;
  ackWaitMs: number;
  databaseUrl: string;
  mode?: 'batch';
}): CrashConsumer {
  const child = spawn(
    path.join(REPO_ROOT, 'node_modules/.bin/node'),
    [path.join(REPO_ROOT, 'tools/register.js'), path.join(__dirname, 'crash-consumer.fixture.ts')],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        NS: env.namespace,
        DURABLE: env.durable,
        SUBJECT: env.subject,
        ACK_WAIT_MS: String(env.ackWaitMs),
        DATABASE_URL: env.databaseUrl,
        ...(env.mode ? { MODE: env.mode } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  return {
    out: () => out,
    err: () => err,
    kill: () => {
      child.kill('SIGKILL');
      return exited;
    },
  };
}
