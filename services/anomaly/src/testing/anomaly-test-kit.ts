import { cloudEvent, EVENT_TYPES, SUBJECTS, type MetricsBatchV1, type StreamKey } from '@arcwatch/contracts';
import type { EventBus } from '@arcwatch/messaging';
import { deleteStreams } from '@arcwatch/messaging/src/testing/int-helpers';
import { TEST_AUTH_ENV } from '@arcwatch/testing';
import { loadAnomalyConfig, type AnomalyConfig } from '../config';

/** Integration tests only: the service's test configuration and stream readers. */
export function testConfig(databaseUrl: string, namespace: string, extra: Record<string, string> = {}): AnomalyConfig {
  return loadAnomalyConfig({
    DATABASE_URL: databaseUrl,
    NATS_NAMESPACE: namespace,
    ANOMALY_PORT: '0',
    ANOMALY_DEBOUNCE_MS: '0',
    ANOMALY_RELOAD_CHECK_MS: '0',
    LOG_LEVEL: process.env.ANOMALY_TEST_LOG_LEVEL ?? 'silent',
    ...TEST_AUTH_ENV,
    ...extra,
  });
}

/** The streams an anomaly spec's namespace gets: what the service reads, writes and dead-letters. */
const ANOMALY_STREAMS: readonly StreamKey[] = ['metrics', 'alerts', 'deadLetter'];

/**
 * Integration tests only: stops what a spec started, each part only if it got that far — the
 * app, then the namespace's streams (with their consumers) and the bus, then the database.
 */
export async function tearDown(parts: {
  app?: { close(): Promise<void> };
  bus?: EventBus;
  db?: { drop(): Promise<void> };
}): Promise<void> {
  const { app, bus, db } = parts;
  await app?.close();
  if (bus) {
    await deleteStreams(bus, ANOMALY_STREAMS);
    await bus.drain();
  }
  await db?.drop();
}

/** Every stored message of a stream whose canonical subject starts with `prefix`, oldest first. */
export async function readSubjects<T>(
  bus: EventBus,
  key: StreamKey,
  prefix: string,
): Promise<Array<{ subject: string; body: T }>> {
  const name = bus.streamName(key);
  const info = await bus.jsm.streams.info(name).catch(() => undefined);
  const out: Array<{ subject: string; body: T }> = [];
  if (!info || info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await bus.jsm.streams.getMessage(name, { seq }).catch(() => null);
    const subject = m ? bus.naming.fromWire(m.subject) : '';
    if (m && subject.startsWith(prefix)) out.push({ subject, body: m.json<T>() });
  }
  return out;
}

/**
 * Publishes one scrape of the vLLM target node-1:8000 with `up` at `value` (0: down), as the
 * collector would: the batch the Alertmanager specs' InferenceServiceDown rule reads.
 */
export async function publishVllmUp(bus: EventBus, id: string, atMs: number, value: number): Promise<void> {
  const data: MetricsBatchV1 = {
    batchId: id,
    source: 'scrape',
    cluster: 'c1',
    node: 'node-1',
    target: { job: 'vllm', instance: 'node-1:8000' },
    scrapedAtMs: atMs,
    series: [{ labels: { __name__: 'up', job: 'vllm', instance: 'node-1:8000' }, samples: [[atMs, value]] }],
  };
  await bus.publish(
    SUBJECTS.metricsSamples('c1', 'node-1'),
    cloudEvent({ id, source: 'test', type: EVENT_TYPES.metricsBatch, data }),
  );
}
