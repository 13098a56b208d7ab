/**
 * Request events end to end, beside a bare JetStream reference measured in the same run.
 *
 * 1. Bare JetStream: the very messages the tracing service's ingest would publish for these
 *    events (same subjects, same bytes, same message ids) are published to a throw-away stream,
 *    256 PubAcks in flight as EventBus.publishMany does, while a plain durable pull consumer
 *    only acks them. Timed from the first publish to the last ack flushed.
 * 2. ArcWatch: the same events POSTed to the HTTP batch endpoint (5,000 per request, with the
 *    service's default settings) until every request is a row of tracing.requests: JetStream,
 *    the assembly consumer, the projection, the outbox, committed and queryable.
 *
 *   node tools/register.js services/tracing/bench/events.bench.ts [requests=10000] [eventsPerMessage] [completedPerMessage] [--direct] [--posts-in-flight=N]
 *
 * eventsPerMessage overrides TRACING_INGEST_EVENTS_PER_MESSAGE (1 = one message per event; `-`
 * keeps the default) and completedPerMessage TRACING_COMPLETED_PER_MESSAGE (1 = one
 * request.completed per request); without them the service's defaults apply. Each request is 5
 * events. "published" also waits until the outbox is empty: every request.completed on JetStream.
 * `--direct` leaves the ingest out, to see the assembly consumer on its own: instead of the POSTs,
 * the messages the ingest would publish (prepared for the bare run) are published into the
 * service's stream from this process, 256 PubAcks in flight. `--posts-in-flight=N` sends N POSTs
 * at a time (default 1: each POST waits for the answer to the one before), as a gateway with
 * several senders would.
 */
import 'reflect-metadata';
import { cpus, loadavg, totalmem } from 'node:os';
import pino from 'pino';
import { Pool } from 'pg';
import { AckPolicy } from '@nats-io/jetstream';
import { EventBus, type SerializedEventItem } from '@arcwatch/messaging';
import { MetricsRegistry } from '@arcwatch/runtime';
import { SUBJECTS } from '@arcwatch/contracts';
import { EMPTY_DIRECTORY } from '@arcwatch/request-assembly';
import { authHeaders, createTestDatabase, startCpuMeter, testNamespace } from '@arcwatch/testing';
import { createTracingApp } from '../src/app';
import { prepareBatch } from '../src/ingest/ingest-batch';
import { testConfig } from '../src/testing/tracing-test-kit';

const POST_SIZE = 5_000;

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

function benchEvents(requests: number): Array<Record<string, unknown>> {
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
  return events;
}

/** Publishes the messages (bytes prepared beforehand) while a plain consumer acks them. */
async function bareJetStream(
  messages: readonly SerializedEventItem[],
  postSizes: number[],
): Promise<{ ms: number; bytes: number; cpuMs: number }> {
  const bus = await EventBus.connect({
    name: 'bench-bare',
    namespace: testNamespace(),
    logger: pino({ level: 'silent' }),
  });
  const stream = bus.streamName('requests');
  try {
    await bus.ensureStreams(['requests']);
    await bus.jsm.consumers.add(stream, {
      durable_name: 'bare',
      ack_policy: AckPolicy.Explicit,
      filter_subject: bus.naming.toWire(SUBJECTS.requestEventsAll),
      max_ack_pending: 2_000,
    });
    const encoder = new TextEncoder();
    const wire = messages.map((m) => ({
      subject: bus.naming.toWire(m.subject),
      data: typeof m.json === 'string' ? encoder.encode(m.json) : m.json,
      id: m.id,
    }));
    const bytes = wire.reduce((n, m) => n + m.data.length, 0);
    const consumer = await bus.js.consumers.get(stream, 'bare');
    const inbox = await consumer.consume({ max_messages: 1_000 });
    const consumed = (async () => {
      let n = 0;
      for await (const m of inbox) {
        m.ack();
        if (++n === wire.length) break;
      }
      await bus.nc.flush();
    })();
    const started = performance.now();
    const cpu = process.cpuUsage();
    // As the service does: the messages of one POST together, 256 PubAcks in flight.
    let offset = 0;
    for (const size of postSizes) {
      const group = wire.slice(offset, offset + size);
      offset += size;
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < group.length) {
          const m = group[next++];
          await bus.js.publish(m.subject, m.data, { msgID: m.id });
        }
      };
      await Promise.all(Array.from({ length: Math.min(256, group.length) }, lane));
    }
    await consumed;
    return { ms: performance.now() - started, bytes, cpuMs: cpuMs(process.cpuUsage(cpu)) };
  } finally {
    await bus.jsm.streams.delete(stream).catch(() => false);
    await bus.drain();
  }
}

async function main(): Promise<void> {
  const direct = process.argv.includes('--direct');
  const inFlightArg = process.argv.find((a) => a.startsWith('--posts-in-flight='));
  const postsInFlight = inFlightArg ? Number(inFlightArg.slice('--posts-in-flight='.length)) : 1;
  if (!(Number.isInteger(postsInFlight) && postsInFlight >= 1)) throw new Error(`bad ${inFlightArg}`);
  const args = process.argv.slice(2).filter((a) => a !== '--direct' && a !== inFlightArg);
  const requests = Number(args[0] ?? 10_000);
  const perMessageArg = args[1];
  const completedArg = args[2];
  const loadAtStart = loadavg();
  const db = await createTestDatabase();
  const ns = testNamespace();
  const pool = new Pool({ connectionString: db.url });
  const config = testConfig(db.url, ns, {
    ...(perMessageArg === undefined || perMessageArg === '-'
      ? {}
      : { TRACING_INGEST_EVENTS_PER_MESSAGE: perMessageArg }),
    ...(completedArg === undefined ? {} : { TRACING_COMPLETED_PER_MESSAGE: completedArg }),
  });
  const app = await createTracingApp({ config });
  await app.init();
  const http = app.getHttpAdapter().getInstance();
  const events = benchEvents(requests);

  // The messages the ingest publishes for each POST, made by the ingest's own function
  // (prepareBatch). No API-key file is configured, so an event's tenant is its own.
  const messages: SerializedEventItem[] = [];
  const postSizes: number[] = [];
  for (let i = 0; i < events.length; i += POST_SIZE) {
    const prepared = prepareBatch(
      { events: events.slice(i, i + POST_SIZE) },
      { apiKeySalt: config.apiKeySalt, perMessage: config.ingestEventsPerMessage, directory: EMPTY_DIRECTORY },
    );
    if ('refused' in prepared || prepared.rejected.length > 0) throw new Error('the benchmark events are refused');
    messages.push(...prepared.messages);
    postSizes.push(prepared.messages.length);
  }
  const bare = await bareJetStream(messages, postSizes);

  // The POST bodies as a gateway sends them, encoded before the clock starts: the client's own
  // JSON encoding runs in the client's process, not in the service's (here they share a thread,
  // and encoding the 250,000 events took 0.3 s of it).
  const bodies: Buffer[] = [];
  for (let i = 0; i < events.length; i += POST_SIZE)
    bodies.push(Buffer.from(JSON.stringify({ events: events.slice(i, i + POST_SIZE) }), 'utf8'));

  const started = performance.now();
  const cpu = process.cpuUsage();
  // PostgreSQL's backends of the service's database and nats-server, from the first POST on.
  const servers = await startCpuMeter([], { admin: pool, database: db.name });
  if (direct) await app.get(EventBus).publishMany(messages);
  else {
    let next = 0;
    const sender = async (): Promise<void> => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const res = await http.inject({
          method: 'POST',
          url: '/api/v1/requests/events',
          headers: { ...authHeaders(), 'content-type': 'application/json' },
          payload: body,
        });
        if (res.statusCode !== 202) throw new Error(`batch refused: ${res.statusCode} ${res.body}`);
      }
    };
    await Promise.all(Array.from({ length: postsInFlight }, sender));
  }
  const accepted = performance.now();
  // Watched through the service's own counter of assembled requests (it moves after the commit),
  // then confirmed by counting the rows: a count(*) over the growing table every 20 ms would take
  // seconds of PostgreSQL's CPU from the run on a 2-core machine. The counter is read from the
  // registry, not by rendering /metrics: 350 renders, one every 20 ms of a 7-second run, took
  // 0.5–0.7 s of the service's CPU (measured on an idle service), which a scrape every 15 s does not.
  const assembledCounter = app
    .get(MetricsRegistry)
    .registry.getSingleMetric('arcwatch_tracing_requests_assembled_total');
  if (assembledCounter === undefined) throw new Error('the service has no assembled-requests counter');
  const assembledNow = async () => (await assembledCounter.get()).values.reduce((n, v) => n + v.value, 0);
  // How far assembly had got when the last POST was answered: from there on the consumer runs
  // alone, and its pace is (the rest) / (done − accepted).
  const assembledAtAccept = await assembledNow();
  for (;;) {
    const assembled = await assembledNow();
    if (assembled >= requests) {
      const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM tracing.requests');
      if (Number(rows[0].n) === requests) break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const done = performance.now();
  const serversCpu = await servers.stop();
  // …and until every request's request.completed has left the outbox for JetStream (the relay
  // runs on the worker's timer, beside the consumer).
  for (;;) {
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM tracing.outbox');
    if (Number(rows[0].n) === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const published = performance.now();
  const arcwatchCpu = cpuMs(process.cpuUsage(cpu));
  const rate = (ms: number) => Math.round(events.length / (ms / 1000));
  const result = {
    bench: 'tracing-events-end-to-end',
    events: events.length,
    requests,
    eventsPerMessage: config.ingestEventsPerMessage,
    messages: messages.length,
    messageBytes: bare.bytes,
    bareJetStreamMs: Math.round(bare.ms),
    bareJetStreamEventsPerSec: rate(bare.ms),
    ingest: direct ? 'direct (the prepared messages published from the benchmark)' : 'HTTP',
    postsInFlight: direct ? 0 : postsInFlight,
    httpAcceptMs: Math.round(accepted - started),
    httpAcceptEventsPerSec: rate(accepted - started),
    endToEndMs: Math.round(done - started),
    assembledAtAccept,
    assemblyAloneEventsPerSec: Math.round(
      ((requests - assembledAtAccept) * (events.length / requests)) / ((done - accepted) / 1000),
    ),
    endToEndEventsPerSec: rate(done - started),
    completedPerMessage: config.completedPerMessage,
    publishedMs: Math.round(published - started),
    publishedEventsPerSec: rate(published - started),
    // CPU of this Node.js process only (PostgreSQL and nats-server are apart): the client side
    // for the bare run, the whole service for ArcWatch's. Less sensitive to load than wall time.
    bareProcessCpuMs: Math.round(bare.cpuMs),
    arcwatchProcessCpuMs: Math.round(arcwatchCpu),
    // PostgreSQL's and nats-server's CPU from the first POST to the last request queryable.
    postgresCpuMs: Math.round((serversCpu.postgresCpu ?? 0) * 1000),
    natsCpuMs: Math.round((serversCpu.natsCpu ?? 0) * 1000),
    ratioToBare: Math.round((bare.ms / (done - started)) * 1000) / 1000,
    machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`,
    loadAverage: { start: loadAtStart.map((x) => x.toFixed(2)), end: loadavg().map((x) => x.toFixed(2)) },
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
