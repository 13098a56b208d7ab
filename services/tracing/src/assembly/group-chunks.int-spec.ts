import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'pg';
import { EventBus } from '@arcwatch/messaging';
import { createTestDatabase, testNamespace, type TestDatabase } from '@arcwatch/testing';
import { withTransaction } from '@arcwatch/storage';
import { EMPTY_DIRECTORY, assemble, evolveAll, toAssemblyEvent } from '@arcwatch/request-assembly';
import type { RequestCompletedV1, RequestEventKind, RequestEventV1 } from '@arcwatch/contracts';
import { createTracingApp } from '../app';
import { testConfig } from '../testing/tracing-test-kit';
import type { WindowStats } from '../stats/request-stats';
import { StatsService } from '../stats/stats.service';
import { ASSEMBLY_DURABLE, AssemblyService, type StoredEvent } from './assembly.service';

/**
 * A group bigger than one transaction (a consumer catching up on a backlog): it is split by
 * request into transactions that run two at a time. Here every request's five events are spread
 * over the whole group (all `received` first, then all `queued`, …), so transactions cut by
 * position would each hold a part of every request.
 */
const REQUESTS = 2_400;
const PHASES: RequestEventKind[] = ['received', 'queued', 'scheduled', 'first_token', 'completed'];
// One minute of request time, a few minutes ago: every request ends in the same minute.
const T0 = Math.floor((Date.now() - 10 * 60_000) / 60_000) * 60_000;

function spreadGroup(prefix: string, storedFromMs: number): StoredEvent[] {
  const items: StoredEvent[] = [];
  PHASES.forEach((kind, p) => {
    for (let r = 0; r < REQUESTS; r++) {
      const event: RequestEventV1 = {
        requestId: `${prefix}-${String(r).padStart(5, '0')}`,
        kind,
        time: new Date(T0 + r + p * 100).toISOString(),
        ...(kind === 'received' ? { tenant: 'acme', model: 'llama-3-8b', modelVersion: 'v1' } : {}),
        ...(kind === 'completed' ? { promptTokens: 10, completionTokens: 5 } : {}),
      };
      items.push({ event, storedAtMs: storedFromMs + items.length });
    }
  });
  return items;
}

describe('a group of several transactions (PostgreSQL)', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let pool: Pool;
  const ns = testNamespace();

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url });
    app = await createTracingApp({ config: testConfig(db.url, ns), disableWorkerTimer: true });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    const bus = await EventBus.connect({ name: 'group-chunks-cleanup', namespace: ns });
    for (const key of ['requests', 'metrics', 'deadLetter'] as const)
      await bus.jsm.streams.delete(bus.streamName(key)).catch(() => false);
    await bus.drain();
    await pool?.end();
    await db?.drop();
  });

  const completedInStats = async (tenant = 'acme') => {
    const { rows } = await pool.query<{ stats: WindowStats }>(
      `SELECT stats FROM tracing.minute_stats WHERE tenant = $1`,
      [tenant],
    );
    return rows.reduce((n, r) => n + (r.stats.byStatus.completed ?? 0), 0);
  };

  it('assembles every request whole, counts each once in the minute they share, and moves progress to the group', async () => {
    const assembly = app.get(AssemblyService);
    const storedFrom = T0 + 60_000;
    const group = spreadGroup('spread', storedFrom);
    expect(group).toHaveLength(12_000);

    const outcomes = await assembly.recordBatch(group);
    expect(outcomes).toHaveLength(group.length);
    expect(outcomes.every((o) => o.inserted && !o.late)).toBe(true);

    const { rows } = await pool.query<{ record: RequestCompletedV1 }>(
      `SELECT record FROM tracing.requests WHERE request_id LIKE 'spread-%' ORDER BY request_id`,
    );
    expect(rows).toHaveLength(REQUESTS);
    // complete at once: no request was seen in part and left to wait for its grace period
    expect(rows.filter((r) => r.record.status !== 'completed' || r.record.missingPhases.length > 0)).toEqual([]);
    expect(rows[7].record).toMatchObject({ requestId: 'spread-00007', queueMs: 100, ttftMs: 300, e2eMs: 400 });
    expect(Number((await pool.query('SELECT count(*) AS n FROM tracing.open_requests')).rows[0].n)).toBe(0);
    // both transactions of a turn add to the same new minute: neither overwrites the other
    expect(await completedInStats()).toBe(REQUESTS);
    const progress = await pool.query<{ stored_at: Date }>(
      'SELECT stored_at FROM tracing.consumer_progress WHERE durable = $1',
      [ASSEMBLY_DURABLE],
    );
    expect(progress.rows[0].stored_at.getTime()).toBe(storedFrom + group.length - 1);

    // The group delivered again (a crash before the acks): every event is late, nothing changes.
    const again = await assembly.recordBatch(group);
    expect(again.every((o) => o.late && !o.inserted)).toBe(true);
    expect(Number((await pool.query(`SELECT count(*) AS n FROM tracing.requests`)).rows[0].n)).toBe(REQUESTS);
    expect(await completedInStats()).toBe(REQUESTS);
  });

  it('adds two transactions that create the same minute together: the second waits for the first and adds to it', async () => {
    const stats = app.get(StatsService);
    const record = (requestId: string): RequestCompletedV1 => {
      const state = evolveAll(
        undefined,
        spreadGroup(requestId, 0)
          .filter((x) => x.event.requestId === `${requestId}-00000`)
          .map((x) => ({ event: toAssemblyEvent({ ...x.event, tenant: 'initech' }), seenAtMs: x.storedAtMs })),
      );
      if (!state) throw new Error('no state');
      return assemble(state, EMPTY_DIRECTORY);
    };
    // First: its minute row is new and not committed when the second begins.
    const first = await pool.connect();
    try {
      await first.query('BEGIN');
      await stats.apply(first, [record('race-a'), record('race-b')]);
      const second = withTransaction(pool, (db) => stats.apply(db, [record('race-c')]));
      await new Promise((r) => setTimeout(r, 300)); // the second is now waiting on the first's row
      await first.query('COMMIT');
      await second;
    } finally {
      first.release();
    }
    expect(await completedInStats('initech')).toBe(3);
  });
});
