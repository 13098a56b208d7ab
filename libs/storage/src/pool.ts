import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { Pool, type PoolClient, type PoolConfig } from 'pg';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/arcwatch';

/**
 * A pg pool for one service. The URL defaults to DATABASE_URL, then to the local default of the
 * test machines; services pass the value parsed by their own config schema.
 */
export function createPool(
  url?: string,
  options: Omit<PoolConfig, 'connectionString'> = {},
  onIdleError: (err: Error) => void = (err) => process.emitWarning(`idle PostgreSQL connection closed: ${err.message}`),
): Pool {
  const connectionString = url ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const pool = new Pool({ max: 10, ...options, connectionString });
  // An idle client whose connection the server ends (restart, failover, pg_terminate_backend)
  // makes the pool emit 'error'; unheard, that would crash the process. The pool drops that
  // client and opens a new one on the next checkout, so reporting it is enough.
  pool.on('error', onIdleError);
  // A checked-out client has no such listener (the pool removes its own while the client is out),
  // and pg emits 'error' on it too when the server goes away mid-transaction: unheard, that
  // crashed the process on a PostgreSQL restart. Its queries fail with the same error, and the
  // code that holds the client handles that; the event itself only needs a listener.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return pool;
}

export function drizzleFor(pool: Pool): NodePgDatabase {
  return drizzle(pool);
}

/** Runs `fn` inside BEGIN … COMMIT on one pooled client, rolling back on any error. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
