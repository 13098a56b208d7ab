import { cloudEvent, STREAMS, type CloudEvent, type StreamKey } from '@arcwatch/contracts';
import pino from 'pino';
import type { EventBus } from '../event-bus';
import type { MessagingLogger } from '../logger';

/** Integration tests only: quiet logs unless a test asks for them. */
export const quietLogger: MessagingLogger = pino({ level: 'silent' });

export const ALL_STREAM_KEYS = Object.keys(STREAMS) as StreamKey[];

/** Removes this namespace's streams (and with them their consumers). */
export async function deleteStreams(bus: EventBus, keys: StreamKey[] = ALL_STREAM_KEYS): Promise<void> {
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
