import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@arcwatch/testing';
import { cloudEvent, requestEventId, type RequestCompletedV1, type RequestEventV1 } from '@arcwatch/contracts';
import { ensurePartitionsCovering, migrate, withTransaction } from '@arcwatch/storage';
import { tracingMigrations } from '../database/tracing.migrations';
import { assemble } from '@arcwatch/request-assembly';
import { AssemblyRepository } from './assembly.repository';
import { RequestsRepository } from '../query/requests.repository';
import { evolveAll, sortedEvents, toAssemblyEvent, type RequestState } from '@arcwatch/request-assembly';
import { EMPTY_DIRECTORY } from '@arcwatch/request-assembly';

/** The assembly state's SQL against a real PostgreSQL: upgrade, concurrent creation, closing. */
const T0 = Date.parse('2025-06-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const ev = (
  requestId: string,
  kind: RequestEventV1['kind'],
  ms: number,
  extra: Partial<RequestEventV1> = {},
): RequestEventV1 => ({ requestId, kind, time: at(ms), ...extra });

/** A state with its events in the one order that does not depend on arrival (the list has none). */
const canonical = (s: RequestState | undefined) => s && { ...s, events: sortedEvents(s) };

function stateOf(events: RequestEventV1[], seenAtMs: number): RequestState {
  const s = evolveAll(
    undefined,
    events.map((e) => ({ event: toAssemblyEvent(e), seenAtMs })),
  );
  if (!s) throw new Error('no events');
  return s;
}

describe('assembly repository (PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: Pool;
  const repo = new AssemblyRepository('tracing');

  /** A new schema migrated as far as the version before `migrationId`, with partitions for T0's day. */
  async function migratedUpTo(schema: string, migrationId: string): Promise<string> {
    await pool.query(`CREATE SCHEMA ${schema}`);
    const upTo = tracingMigrations.findIndex((m) => m.id === migrationId);
    await migrate(pool, { schema, migrations: tracingMigrations.slice(0, upTo) });
    await ensurePartitionsCovering(pool, `${schema}.requests`, T0, T0 + 86_400_000);
    return schema;
  }

  /**
   * Assembled requests as the versions before 0006 stored them (the record as jsonb, no node or
   * GPU columns), with their gate rows.
   */
  async function storeAsBefore0006(schema: string, records: RequestCompletedV1[]): Promise<void> {
    for (const r of records)
      await pool.query(
        `INSERT INTO ${schema}.requests (request_id, started_at, ended_at, status, tenant, team, project, model, model_version, record)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)`,
        [
          r.requestId,
          r.startedAt,
          r.endedAt,
          r.status,
          r.tenant,
          r.team,
          r.project,
          r.model,
          r.modelVersion,
          JSON.stringify(r),
        ],
      );
    await pool.query(
      `INSERT INTO ${schema}.finished_requests (request_id, started_at, finished_at) SELECT request_id, started_at, now() FROM ${schema}.requests`,
    );
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url });
    await pool.query('CREATE SCHEMA tracing');
    await migrate(pool, { schema: 'tracing', migrations: tracingMigrations });
    await ensurePartitionsCovering(pool, 'tracing.requests', T0, T0);
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('moves the events of open requests stored by the previous version into their state row', async () => {
    // A schema of its own, migrated only as far as the previous version went.
    const repo = new AssemblyRepository('legacy');
    await pool.query('CREATE SCHEMA legacy');
    await migrate(pool, { schema: 'legacy', migrations: tracingMigrations.slice(0, 2) });
    const events = [ev('old-1', 'received', 0, { model: 'llama-3-8b' }), ev('old-1', 'queued', 5)];
    await pool.query(
      `INSERT INTO legacy.open_requests (request_id, first_seen_at, last_seen_at, terminal_seen_at, due_at) VALUES ('old-1', $1, $2, NULL, $3)`,
      [new Date(T0), new Date(T0 + 7), new Date(T0 + 600_000)],
    );
    for (const e of events)
      await pool.query('INSERT INTO legacy.request_events (event_id, request_id, event) VALUES ($1, $2, $3)', [
        requestEventId(e),
        e.requestId,
        JSON.stringify(e),
      ]);

    await migrate(pool, { schema: 'legacy', migrations: tracingMigrations });
    const [state] = await withTransaction(pool, (c) => repo.lockOpen(c, ['old-1']));
    expect(canonical(state)).toEqual(canonical({ ...stateOf(events, T0), lastSeenAtMs: T0 + 7 }));
    expect((await pool.query(`SELECT to_regclass('legacy.request_events') AS t`)).rows[0].t).toBeNull();
  });

  it('keeps the requests stored before their key led with started_at: found by id and newest first, the extra index gone', async () => {
    // A schema migrated as far as the version before 0005, holding assembled requests.
    const schema = await migratedUpTo('before_time_key', '0005_requests_key_by_time');
    const records = ['k-2', 'k-1', 'k-3'].map((id, i) =>
      assemble(
        stateOf([ev(id, 'received', i * 1000, { tenant: 'acme' }), ev(id, 'completed', i * 1000 + 50)], T0),
        EMPTY_DIRECTORY,
      ),
    );
    await storeAsBefore0006(schema, records);
    const old = new AssemblyRepository(schema);

    await migrate(pool, { schema, migrations: tracingMigrations });
    const key = await pool.query<{ def: string }>(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = '${schema}.requests'::regclass AND contype = 'p'`,
    );
    expect(key.rows.map((r) => r.def)).toEqual(['PRIMARY KEY (started_at, request_id)']);
    expect((await pool.query(`SELECT to_regclass('${schema}.requests_started') AS t`)).rows[0].t).toBeNull();
    const reads = new RequestsRepository(pool, schema);
    expect((await reads.byId('k-1'))?.requestId).toBe('k-1');
    const listed = await reads.search({ fromMs: T0 - 1000, toMs: T0 + 60_000, limit: 10 });
    expect(listed.map((r) => r.requestId)).toEqual(['k-3', 'k-1', 'k-2']); // newest first
    // a second assembly of a stored request is still a no-op under the new key
    expect(await withTransaction(pool, (c) => old.finish(c, [{ record: records[1] }], [], T0, false))).toEqual([]);
  });

  it('merges two states of one request created concurrently (neither saw the other): events by id, earliest arrival, earlier due time', async () => {
    const a = stateOf([ev('race-1', 'received', 0), ev('race-1', 'queued', 5)], T0 + 100);
    const b = stateOf([ev('race-1', 'queued', 5), ev('race-1', 'completed', 900)], T0 + 50);
    await withTransaction(pool, (c) => repo.saveOpen(c, [{ state: a, dueAtMs: T0 + 600_100, existed: false }]));
    await withTransaction(pool, (c) => repo.saveOpen(c, [{ state: b, dueAtMs: T0 + 5_050, existed: false }]));
    const [merged] = await withTransaction(pool, (c) => repo.lockOpen(c, ['race-1']));
    expect(
      Object.values(merged.events)
        .map((e) => e.kind)
        .sort(),
    ).toEqual(['completed', 'queued', 'received']);
    expect([merged.firstSeenAtMs, merged.lastSeenAtMs, merged.terminalSeenAtMs]).toEqual([T0 + 50, T0 + 100, T0 + 50]);
    const due = await pool.query<{ due_at: Date }>(
      `SELECT due_at FROM tracing.open_requests WHERE request_id = 'race-1'`,
    );
    expect(due.rows[0].due_at.getTime()).toBe(T0 + 5_050);

    // A row read under lock is overwritten with the state computed from it, due time included.
    const later = evolveAll(merged, [
      { event: toAssemblyEvent(ev('race-1', 'scheduled', 50)), seenAtMs: T0 + 200 },
    ]) as RequestState;
    await withTransaction(pool, (c) => repo.saveOpen(c, [{ state: later, dueAtMs: T0 + 9_000, existed: true }]));
    const [stored] = await withTransaction(pool, (c) => repo.lockOpen(c, ['race-1']));
    expect(canonical(stored)).toEqual(canonical(later));
    expect(
      (
        await pool.query<{ due_at: Date }>(`SELECT due_at FROM tracing.open_requests WHERE request_id = 'race-1'`)
      ).rows[0].due_at.getTime(),
    ).toBe(T0 + 9_000);
  });

  it('closes a request once: projected, queued in the outbox with the record as data, its open row gone; a second close is a no-op', async () => {
    const open = stateOf(
      [ev('close-1', 'received', 0), ev('close-1', 'first_token', 300), ev('close-1', 'completed', 900)],
      T0 + 950,
    );
    await withTransaction(pool, (c) => repo.saveOpen(c, [{ state: open, dueAtMs: T0 + 1_000, existed: false }]));
    const state = (await withTransaction(pool, (c) => repo.lockOpen(c, ['close-1'])))[0];
    const record = assemble(state, EMPTY_DIRECTORY);
    const item = {
      record,
      outbox: {
        eventId: 'completed-close-1',
        subject: 'aw.requests.v1.completed.unknown',
        envelope: cloudEvent({ id: 'completed-close-1', type: 't', source: 'test', data: null }),
      },
    };
    const first = await withTransaction(pool, (c) => repo.finish(c, [item], ['close-1'], T0 + 10_000, true));
    expect(first.map((r) => r.requestId)).toEqual(['close-1']);
    const second = await withTransaction(pool, (c) => repo.finish(c, [item], [], T0 + 20_000, true));
    expect(second).toEqual([]);

    const outbox = await pool.query<{ event: { id: string; data: unknown } }>(
      'SELECT event::jsonb AS event FROM tracing.outbox',
    );
    expect(outbox.rows.map((r) => [r.event.id, r.event.data])).toEqual([['completed-close-1', record]]);
    expect(
      (await pool.query(`SELECT record FROM tracing.requests WHERE request_id = 'close-1'`)).rows.map((r) => r.record),
    ).toEqual([record]);
    expect((await pool.query(`SELECT 1 FROM tracing.open_requests WHERE request_id = 'close-1'`)).rowCount).toBe(0);
    expect(await withTransaction(pool, (c) => repo.finishedAmong(c, ['close-1', 'never']))).toEqual(
      new Set(['close-1']),
    );
  });
  it('projects by COPY (the batch form) the very row the single form writes by INSERT, odd text included', async () => {
    const state = stateOf(
      [ev('copy-a', 'received', 0, { model: 'llama-3-8b' }), ev('copy-a', 'failed', 400)],
      T0 + 450,
    );
    const odd = {
      ...assemble(state, EMPTY_DIRECTORY),
      tenant: 'tab\there',
      instance: 'back\\slash "quoted" \u00e9',
      error: { code: 'engine_error', message: 'line one\nline two\r\n\tindented \\N not null' },
      tpotMs: null,
      node: 'node\t"b"',
      gpuUuids: ['GPU-1', 'GPU,2', 'GPU "3" \\ {x}', 'NULL', ''],
    };
    const [a, b] = [
      { ...odd, requestId: 'copy-a' },
      { ...odd, requestId: 'copy-b' },
    ];
    expect(await withTransaction(pool, (c) => repo.finish(c, [{ record: a }], [], T0 + 1_000, false))).toEqual([a]);
    const each = {
      record: b,
      outbox: {
        eventId: 'completed-copy-b',
        subject: 'aw.requests.v1.completed.unknown',
        envelope: cloudEvent({ id: 'completed-copy-b', type: 't', source: 'test', data: null }),
      },
    };
    expect(await withTransaction(pool, (c) => repo.finish(c, [each], [], T0 + 1_000, true))).toEqual([b]);
    const { rows } = await pool.query(
      `SELECT * FROM tracing.requests WHERE request_id IN ('copy-a', 'copy-b') ORDER BY request_id`,
    );
    expect(rows).toHaveLength(2);
    const [byCopy, byInsert] = rows.map(({ request_id: _id, record, ...columns }) => ({
      columns,
      record: { ...record, requestId: undefined },
    }));
    expect(byCopy).toEqual(byInsert);
    expect(byCopy.columns).toMatchObject({
      tenant: 'tab\there',
      instance: odd.instance,
      tpot_ms: null,
      node: odd.node,
      gpu_uuids: odd.gpuUuids,
    });
    expect(rows[0].record).toEqual(a);

    // The same with the records' bytes given: one with a backslash (escaped from its text), one
    // without (copied as it is), with text outside ASCII.
    const c = { ...odd, requestId: 'copy-c' };
    const d = { ...odd, requestId: 'copy-d', instance: 'gpu-é-ü-😀 "quoted"', error: null };
    const withBytes = [c, d].map((record) => ({ record, bytes: Buffer.from(JSON.stringify(record)) }));
    expect(await withTransaction(pool, (db) => repo.finish(db, withBytes, [], T0 + 1_000, false))).toEqual([c, d]);
    const more = await pool.query(
      `SELECT * FROM tracing.requests WHERE request_id IN ('copy-c', 'copy-d') ORDER BY request_id`,
    );
    expect(more.rows.map((r) => r.record)).toEqual([c, d]);
    const { request_id: _c, record: recordC, ...columnsC } = more.rows[0];
    expect({ columns: columnsC, record: { ...recordC, requestId: undefined } }).toEqual(byInsert);
    expect(more.rows[1]).toMatchObject({ instance: 'gpu-é-ü-😀 "quoted"', tenant: 'tab\there' });
  });

  it('stores the record as json and the node and GPUs as columns (0006), the requests stored before included', async () => {
    const schema = await migratedUpTo('before_record_json', '0006_requests_record_json');
    const onGpus = assemble(
      stateOf(
        [ev('j-1', 'received', 0, { node: 'node-a', gpuUuids: ['GPU-2', 'GPU-1'] }), ev('j-1', 'completed', 50)],
        T0,
      ),
      EMPTY_DIRECTORY,
    );
    const plain = assemble(stateOf([ev('j-2', 'received', 1000), ev('j-2', 'completed', 1050)], T0), EMPTY_DIRECTORY);
    await storeAsBefore0006(schema, [onGpus, plain]);

    await migrate(pool, { schema, migrations: tracingMigrations });
    const { rows } = await pool.query(
      `SELECT request_id, node, gpu_uuids, record, pg_typeof(record)::text AS type FROM ${schema}.requests ORDER BY request_id`,
    );
    expect(rows).toEqual([
      { request_id: 'j-1', node: 'node-a', gpu_uuids: ['GPU-1', 'GPU-2'], record: onGpus, type: 'json' },
      { request_id: 'j-2', node: null, gpu_uuids: [], record: plain, type: 'json' },
    ]);
    // Written after it, by COPY: the record is the text the service sent, byte for byte.
    const fresh = { ...plain, requestId: 'j-3', node: 'node-b', gpuUuids: ['GPU-9'] };
    const bytes = Buffer.from(JSON.stringify(fresh));
    await withTransaction(pool, (c) =>
      new AssemblyRepository(schema).finish(c, [{ record: fresh, bytes }], [], T0, false),
    );
    const stored = await pool.query(
      `SELECT node, gpu_uuids, record::text AS text FROM ${schema}.requests WHERE request_id = 'j-3'`,
    );
    expect(stored.rows).toEqual([{ node: 'node-b', gpu_uuids: ['GPU-9'], text: bytes.toString() }]);
  });

  it('skips a request that already has its row though its gate is gone, instead of failing the group', async () => {
    const record = assemble(
      stateOf([ev('regated-1', 'received', 0), ev('regated-1', 'completed', 900)], T0 + 950),
      EMPTY_DIRECTORY,
    );
    const other = { ...record, requestId: 'regated-2' };
    await withTransaction(pool, (c) => repo.finish(c, [{ record }], [], T0 + 1_000, false));
    await pool.query(`DELETE FROM tracing.finished_requests WHERE request_id = 'regated-1'`);
    const again = await withTransaction(pool, (c) =>
      repo.finish(c, [{ record }, { record: other }], [], T0 + 2_000, false),
    );
    expect(again.map((r) => r.requestId)).toEqual(['regated-1', 'regated-2']);
    const { rows } = await pool.query<{ request_id: string; n: string }>(
      `SELECT request_id, count(*) AS n FROM tracing.requests WHERE request_id LIKE 'regated-%' GROUP BY 1 ORDER BY 1`,
    );
    expect(rows.map((r) => [r.request_id, Number(r.n)])).toEqual([
      ['regated-1', 1],
      ['regated-2', 1],
    ]);
  });
});
