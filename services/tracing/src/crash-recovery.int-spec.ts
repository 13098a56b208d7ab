import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Pool } from 'pg';
import { EventBus } from '@arcwatch/messaging';
import { REPO_ROOT, createTestDatabase, eventually, testNamespace, type TestDatabase } from '@arcwatch/testing';
import {
  EVENT_TYPES,
  REQUEST_COMPLETED_BATCH_V1,
  REQUEST_EVENT_BATCH_V1,
  SUBJECTS,
  cloudEvent,
  requestEventBatchId,
  requestEventId,
  type CloudEvent,
  type RequestCompletedBatchV1,
  type RequestCompletedV1,
  type RequestEventV1,
} from '@arcwatch/contracts';
import { readSubjects } from './testing/tracing-test-kit';

/**
 * The service as its own process, killed with SIGKILL while it is ingesting, then started
 * again: every request is assembled exactly once, in the table and on the stream.
 */
const REQUESTS = 300;
const T0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;

function eventsOf(i: number): RequestEventV1[] {
  const requestId = `crash-${i}`;
  const t = (ms: number) => new Date(T0 + i * 10 + ms).toISOString();
  return [
    { requestId, kind: 'received', time: t(0), tenant: `tenant-${i % 3}`, model: 'llama-3-8b', modelVersion: 'v1' },
    { requestId, kind: 'queued', time: t(1) },
    { requestId, kind: 'scheduled', time: t(11) },
    { requestId, kind: 'first_token', time: t(111) },
    { requestId, kind: 'completed', time: t(1111), completionTokens: 101, promptTokens: 7 },
  ];
}

/** Deterministic shuffle, so a failure can be replayed. */
function shuffle<T>(items: T[], seed = 42): T[] {
  const a = [...items];
  let s = seed;
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

describe('tracing survives SIGKILL during ingest', () => {
  let db: TestDatabase;
  let pool: Pool;
  let bus: EventBus;
  let child: ChildProcess | undefined;
  const ns = testNamespace();

  const start = () => {
    const p = spawn(
      path.join(REPO_ROOT, 'node_modules/.bin/node'),
      ['tools/register.js', 'services/tracing/src/main.ts'],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          DATABASE_URL: db.url,
          NATS_NAMESPACE: ns,
          TRACING_PORT: '0',
          TRACING_HOST: '127.0.0.1',
          TRACING_ASSEMBLY_INTERVAL_MS: '20',
          TRACING_COMPLETION_GRACE_MS: '600000',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    return p;
  };
  const count = async (sql: string) => {
    try {
      return Number((await pool.query(sql)).rows[0].n);
    } catch {
      return 0; // the schema is not migrated yet
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url });
    bus = await EventBus.connect({ name: 'tracing-crash-test', namespace: ns });
    await bus.ensureStreams(['requests', 'metrics', 'deadLetter']);
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    for (const key of ['requests', 'metrics', 'deadLetter'] as const)
      await bus?.jsm.streams.delete(bus.streamName(key)).catch(() => false);
    await bus?.drain();
    await pool?.end();
    await db?.drop();
  });

  it('loses and duplicates nothing', async () => {
    const all = Array.from({ length: REQUESTS }, (_, i) => eventsOf(i)).flat();
    // Every tenth event is sent twice under another message id, so JetStream keeps both copies;
    // the second copies travel in batch messages (io.arcwatch.requests.event-batch.v1) of 20.
    const shuffled = shuffle(all);
    const seconds = shuffle(
      all.filter((_, i) => i % 10 === 0),
      7,
    );
    const singles = shuffled.map((e, n) => ({
      subject: SUBJECTS.requestEvents(e.tenant ?? 'unknown'),
      event: cloudEvent<unknown>({
        id: `${requestEventId(e)}-${n}`,
        type: EVENT_TYPES.requestEvent,
        source: 'test',
        data: e,
      }),
    }));
    const batches = Array.from({ length: Math.ceil(seconds.length / 20) }, (_, b) =>
      seconds.slice(b * 20, b * 20 + 20),
    ).map((events) => ({
      subject: SUBJECTS.requestEvents('unknown'),
      event: cloudEvent<unknown>({
        id: requestEventBatchId(events),
        type: REQUEST_EVENT_BATCH_V1,
        source: 'test',
        data: { events },
      }),
    }));
    // Interleaved, so that batch messages land in the same consumer groups as single ones.
    const step = Math.floor(singles.length / batches.length);
    await bus.publishMany(
      singles.flatMap((m, i) => (i % step === 0 && batches[i / step] ? [m, batches[i / step]] : [m])),
    );

    child = start();
    await eventually(
      async () => ((await count('SELECT count(*) AS n FROM tracing.finished_requests')) > 10 ? true : undefined),
      60_000,
      'ingest under way',
    );
    child.kill('SIGKILL');
    await new Promise((r) => child?.once('exit', r));
    const doneAtKill = await count('SELECT count(*) AS n FROM tracing.finished_requests');
    expect(doneAtKill).toBeLessThan(REQUESTS);

    const restartedAt = Date.now();
    child = start();
    await eventually(
      async () => {
        const done = await count('SELECT count(*) AS n FROM tracing.requests');
        const outbox = await count('SELECT count(*) AS n FROM tracing.outbox');
        return done === REQUESTS && outbox === 0 ? true : undefined;
      },
      90_000,
      'every request assembled after the restart',
    );
    process.stdout.write(
      `after SIGKILL with ${doneAtKill} of ${REQUESTS} assembled, the rest took ${Date.now() - restartedAt} ms\n`,
    );
    child.kill('SIGTERM');
    await new Promise((r) => child?.once('exit', r));

    const rows = (
      await pool.query<{ request_id: string; n: string }>(
        'SELECT request_id, count(*) AS n FROM tracing.requests GROUP BY 1',
      )
    ).rows;
    expect(rows).toHaveLength(REQUESTS);
    expect(rows.every((r) => r.n === '1')).toBe(true);
    const records = (await pool.query<{ record: RequestCompletedV1 }>('SELECT record FROM tracing.requests')).rows.map(
      (r) => r.record,
    );
    const wrong = records.filter(
      (r) => !(r.status === 'completed' && r.ttftMs === 111 && r.tpotMs === 10 && r.missingPhases.length === 0),
    );
    expect(wrong).toEqual([]);

    // Batched by default: every request in exactly one message, whatever the crash interrupted.
    const published = await readSubjects<CloudEvent<RequestCompletedBatchV1>>(
      bus,
      'requests',
      'aw.requests.v1.completed.',
    );
    expect(new Set(published.map((p) => p.body.type))).toEqual(new Set([REQUEST_COMPLETED_BATCH_V1]));
    const carried = published.flatMap((p) => p.body.data.records.map((r) => r.requestId));
    expect(carried).toHaveLength(REQUESTS);
    expect(new Set(carried).size).toBe(REQUESTS);
    expect(await count(`SELECT count(*) AS n FROM tracing.open_requests`)).toBe(0);
  });
});
