import type { StreamKey } from '@arcwatch/contracts';
import type { EventBus } from '@arcwatch/messaging';
import { deleteStreams } from '@arcwatch/messaging/src/testing/int-helpers';
import type { Pool } from 'pg';
import { TEST_AUTH_ENV, type TestDatabase } from '@arcwatch/testing';
import { loadTracingConfig, type TracingConfig } from '../config';

/** Integration tests only: the service's test configuration and stream readers. */
export function testConfig(databaseUrl: string, namespace: string, extra: Record<string, string> = {}): TracingConfig {
  return loadTracingConfig({
    DATABASE_URL: databaseUrl,
    NATS_NAMESPACE: namespace,
    TRACING_PORT: '0',
    TRACING_API_KEY_SALT: 'integration-test-salt',
    LOG_LEVEL: 'silent',
    ...TEST_AUTH_ENV,
    ...extra,
  });
}

/** Every stored message of a stream whose canonical subject starts with `prefix`, oldest first. */
export async function readSubjects<T>(
  bus: EventBus,
  key: StreamKey,
  prefix: string,
): Promise<Array<{ subject: string; body: T }>> {
  const name = bus.streamName(key);
  const info = await bus.jsm.streams.info(name);
  const out: Array<{ subject: string; body: T }> = [];
  if (info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await bus.jsm.streams.getMessage(name, { seq }).catch(() => null);
    const subject = m ? bus.naming.fromWire(m.subject) : '';
    if (m && subject.startsWith(prefix)) out.push({ subject, body: m.json<T>() });
  }
  return out;
}

/** Per-subject message counts of a stream (canonical subjects). */
export async function subjectCounts(bus: EventBus, key: StreamKey): Promise<Record<string, number>> {
  const info = await bus.jsm.streams.info(bus.streamName(key), { subjects_filter: '>' });
  const out: Record<string, number> = {};
  for (const [s, n] of Object.entries(info.state.subjects ?? {})) out[bus.naming.fromWire(s)] = n;
  return out;
}

/**
 * An integration test's teardown, whatever its setup got to: the app, the namespace's streams
 * (and with them its consumers), the test's own bus, pool and database.
 */
export async function closeTestSetup(s: {
  app?: { close(): Promise<void> };
  bus?: EventBus;
  pool?: Pool;
  db?: TestDatabase;
}): Promise<void> {
  await s.app?.close();
  if (s.bus) await deleteStreams(s.bus, ['requests', 'metrics', 'deadLetter']);
  await s.bus?.drain();
  await s.pool?.end();
  await s.db?.drop();
}
