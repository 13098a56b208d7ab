import { createTestDatabase, type TestDatabase } from '@arcwatch/testing';
import { createPool } from './pool';

describe('createPool', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('survives the server ending a checked-out connection: the holder sees the error, nothing else does', async () => {
    const warnings: string[] = [];
    const pool = createPool(db.url, { max: 2 }, (err) => warnings.push(err.message));
    const admin = createPool(db.url, { max: 1 });
    try {
      const client = await pool.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // What a PostgreSQL restart does to a connection held between two statements of a
      // transaction. No listener of the test's own: pg's 'error' event must find the pool's.
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await new Promise((r) => setTimeout(r, 200));
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release(true);
      // The pool opens a fresh connection for the next caller.
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await admin.end();
      await pool.end();
    }
  });
});
