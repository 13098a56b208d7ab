import type { PoolClient } from 'pg';

/** SQL of the migrations runner. `schema` is validated by the caller (assertIdentifier). */

/**
 * A session lock (not a transaction lock): it must outlive the per-migration transactions.
 * Tried, never waited on: a session blocked in pg_advisory_lock holds a snapshot, and
 * CREATE INDEX CONCURRENTLY in the lock holder waits for every snapshot, so blocking deadlocks.
 */
export async function tryLockSchema(client: PoolClient, schema: string): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtext($1)) AS ok`, [
    `arcwatch.migrate.${schema}`,
  ]);
  return rows[0]?.ok === true;
}

export async function unlockSchema(client: PoolClient, schema: string): Promise<void> {
  await client.query(`SELECT pg_advisory_unlock(hashtext($1))`, [`arcwatch.migrate.${schema}`]);
}

export async function ensureMigrationsTable(client: PoolClient, schema: string): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
       id text PRIMARY KEY,
       checksum text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
}

export async function appliedMigrations(client: PoolClient, schema: string): Promise<Map<string, string>> {
  const { rows } = await client.query<{ id: string; checksum: string }>(
    `SELECT id, checksum FROM ${schema}.schema_migrations`,
  );
  return new Map(rows.map((r) => [r.id, r.checksum]));
}

export async function recordMigration(client: PoolClient, schema: string, id: string, checksum: string): Promise<void> {
  await client.query(`INSERT INTO ${schema}.schema_migrations (id, checksum) VALUES ($1, $2)`, [id, checksum]);
}

/** Whether TimescaleDB is installed, or at least available to CREATE EXTENSION. */
export async function timescaleStatus(client: PoolClient): Promise<{ installed: boolean; available: boolean }> {
  const { rows } = await client.query<{ installed: boolean; available: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS installed,
            EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available`,
  );
  return rows[0] ?? { installed: false, available: false };
}
