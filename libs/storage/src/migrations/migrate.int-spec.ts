import { createTestDatabase, type TestDatabase } from '@arcwatch/testing';
import type { Pool } from 'pg';
import { createPool } from '../pool';
import { ensurePartitions } from '../partitioning/partitions';
import { migrate } from './migrate';
import type { Migration } from './migration';

let db: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, { max: 6 });
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

const migrations: Migration[] = [
  { id: '0001_events', up: 'CREATE TABLE svc.events (id int PRIMARY KEY, at timestamptz NOT NULL)' },
  {
    id: '0002_counter',
    up: (ctx) => `CREATE TABLE ${ctx.schema}.counter (n int NOT NULL); INSERT INTO ${ctx.schema}.counter VALUES (1)`,
  },
  {
    id: '0003_concurrent_index',
    up: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS events_at ON svc.events (at)',
    transactional: false,
  },
];

describe('migrate', () => {
  it('applies pending migrations once, even when two processes start together', async () => {
    const results = await Promise.all([
      migrate(pool, { schema: 'svc', migrations }),
      migrate(pool, { schema: 'svc', migrations }),
    ]);
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 3]);
    // the suite runs on plain PostgreSQL and on TimescaleDB (docs/storage.md): the flag tells which
    const { rows: ext } = await pool.query(`SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'timescaledb'`);
    expect(results.map((r) => r.timescale)).toEqual([ext[0].n === 1, ext[0].n === 1]);
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM svc.schema_migrations ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual(['0001_events', '0002_counter', '0003_concurrent_index']);
    expect((await pool.query('SELECT n FROM svc.counter')).rows).toEqual([{ n: 1 }]);
    expect((await migrate(pool, { schema: 'svc', migrations })).applied).toEqual([]);
  });

  it('rolls back a failing migration and records nothing for it', async () => {
    const bad: Migration[] = [...migrations, { id: '0004_bad', up: 'CREATE TABLE svc.half (n int); SELECT 1/0' }];
    await expect(migrate(pool, { schema: 'svc', migrations: bad })).rejects.toMatchObject({ code: 'MIGRATION_FAILED' });
    expect((await pool.query(`SELECT to_regclass('svc.half') AS t`)).rows[0].t).toBeNull();
    expect(
      (await pool.query(`SELECT count(*)::int AS n FROM svc.schema_migrations WHERE id = '0004_bad'`)).rows[0].n,
    ).toBe(0);
  });

  it('refuses a migration edited after it was applied, and a malformed list', async () => {
    const edited = [
      { ...migrations[0]!, up: 'CREATE TABLE svc.events (id bigint PRIMARY KEY)' },
      ...migrations.slice(1),
    ];
    await expect(migrate(pool, { schema: 'svc', migrations: edited })).rejects.toMatchObject({
      code: 'MIGRATION_CHECKSUM_MISMATCH',
    });
    await expect(migrate(pool, { schema: 'svc', migrations: [migrations[1]!, migrations[0]!] })).rejects.toMatchObject({
      code: 'INVALID_MIGRATIONS',
    });
  });

  it('accepts a migration recorded under the other TimescaleDB rendering, and still refuses an edit of it', async () => {
    const dependent = (table: string): Migration[] => [
      {
        id: '0001_dependent',
        up: (ctx) => `CREATE TABLE ${ctx.schema}.${table} (n int)${ctx.timescale ? '' : ' WITH (fillfactor = 90)'}`,
      },
    ];
    // created before the extension was installed; later starts render with it
    expect((await migrate(pool, { schema: 'ts_later', migrations: dependent('t'), timescale: false })).applied).toEqual(
      ['0001_dependent'],
    );
    expect((await migrate(pool, { schema: 'ts_later', migrations: dependent('t'), timescale: true })).applied).toEqual(
      [],
    );
    expect((await migrate(pool, { schema: 'ts_later', migrations: dependent('t'), timescale: false })).applied).toEqual(
      [],
    );
    await expect(
      migrate(pool, { schema: 'ts_later', migrations: dependent('u'), timescale: true }),
    ).rejects.toMatchObject({ code: 'MIGRATION_CHECKSUM_MISMATCH' });
  });
});

describe('ensurePartitions (native PostgreSQL)', () => {
  const now = Date.UTC(2025, 5, 1, 8, 0);

  beforeAll(async () => {
    await pool.query('CREATE TABLE svc.readings (at timestamptz NOT NULL, v float8) PARTITION BY RANGE (at)');
  });

  it('creates today and the days ahead, then rows route to them', async () => {
    const res = await ensurePartitions(pool, 'svc.readings', { daysAhead: 2, now });
    expect(res).toEqual({
      mode: 'native',
      created: ['readings_p20250601', 'readings_p20250602', 'readings_p20250603'],
      dropped: [],
    });
    await pool.query(`INSERT INTO svc.readings VALUES ('2025-06-02T10:00:00Z', 1)`);
    expect((await pool.query(`SELECT count(*)::int AS n FROM svc.readings_p20250602`)).rows[0].n).toBe(1);
    expect((await ensurePartitions(pool, 'svc.readings', { daysAhead: 2, now })).created).toEqual([]);
  });

  it('drops partitions whose day ended a retention period ago, with their rows', async () => {
    const later = now + 4 * 86_400_000;
    const res = await ensurePartitions(pool, 'svc.readings', { daysAhead: 0, retentionDays: 2, now: later });
    expect(res.dropped).toEqual(['readings_p20250601', 'readings_p20250602']);
    expect((await pool.query('SELECT count(*)::int AS n FROM svc.readings')).rows[0].n).toBe(0);
    // a query over the dropped days uses the same date_bin SQL and simply finds nothing
    const { rows } = await pool.query(
      `SELECT date_bin('1 hour', at, '2000-01-01') AS b, avg(v) FROM svc.readings GROUP BY 1`,
    );
    expect(rows).toEqual([]);
  });
});
