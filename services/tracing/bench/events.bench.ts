/**
 * End-to-end ingest benchmark of the tracing service: lifecycle events POSTed to the HTTP batch
 * endpoint → JetStream → assembly state in Postgres → assembled, projected and published.
 * Prints events/s for the HTTP accept step and for the whole path.
 *
 *   node tools/register.js services/tracing/bench/events.bench.ts [requests=2000] [eventsPerMessage=1]
 *
 * eventsPerMessage is TRACING_INGEST_EVENTS_PER_MESSAGE: 1 publishes one JetStream message per
 * event, more packs them into io.arcwatch.requests.event-batch.v1 messages.
 */
import 'reflect-metadata';
import { Pool } from 'pg';
import { EventBus } from '@arcwatch/messaging';
import { createTestDatabase, testNamespace } from '@arcwatch/testing';
import { createTracingApp } from '../src/app';
import { testConfig } from '../src/testing/tracing-test-kit';

async function main(): Promise<void> {
  const requests = Number(process.argv[2] ?? 2000);
  const eventsPerMessage = process.argv[3] ?? '1';
  const db = await createTestDatabase();
  const ns = testNamespace();
  const pool = new Pool({ connectionString: db.url });
  const app = await createTracingApp({
    config: testConfig(db.url, ns, {
      TRACING_ASSEMBLY_INTERVAL_MS: '50',
      TRACING_INGEST_EVENTS_PER_MESSAGE: eventsPerMessage,
    }),
  });
  await app.init();
  const http = app.getHttpAdapter().getInstance();
  const t0 = Date.now() - 60_000;
  const events = [];
  for (let i = 0; i < requests; i++) {
    const t = (ms: number) => new Date(t0 + i + ms).toISOString();
    const requestId = `bench-${i}`;
    events.push(
      {
        requestId,
        kind: 'received',
        time: t(0),
        tenant: `tenant-${i % 5}`,
        model: 'llama-3-8b',
        modelVersion: 'v1',
        apiKey: `sk-${i % 50}`,
      },
      { requestId, kind: 'queued', time: t(2) },
      { requestId, kind: 'scheduled', time: t(20) },
      { requestId, kind: 'first_token', time: t(220) },
      { requestId, kind: 'completed', time: t(2220), promptTokens: 512, completionTokens: 201, finishReason: 'stop' },
    );
  }
  const started = Date.now();
  for (let i = 0; i < events.length; i += 5_000) {
    const res = await http.inject({
      method: 'POST',
      url: '/api/v1/requests/events',
      payload: { events: events.slice(i, i + 5_000) },
    });
    if (res.statusCode !== 202) throw new Error(`batch refused: ${res.statusCode} ${res.body}`);
  }
  const accepted = Date.now();
  for (;;) {
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM tracing.requests');
    if (Number(rows[0].n) === requests) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const done = Date.now();
  const result = {
    bench: 'tracing-events-end-to-end',
    events: events.length,
    requests,
    eventsPerMessage: Number(eventsPerMessage),
    httpAcceptMs: accepted - started,
    httpAcceptEventsPerSec: Math.round(events.length / ((accepted - started) / 1000)),
    endToEndMs: done - started,
    endToEndEventsPerSec: Math.round(events.length / ((done - started) / 1000)),
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  await app.close();
  const bus = await EventBus.connect({ name: 'bench-cleanup', namespace: ns });
  for (const key of ['requests', 'metrics', 'deadLetter'] as const)
    await bus.jsm.streams.delete(bus.streamName(key)).catch(() => false);
  await bus.drain();
  await pool.end();
  await db.drop();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
