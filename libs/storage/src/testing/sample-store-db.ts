import type { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@arcwatch/testing';
import { migrate } from '../migrations/migrate';
import { createPool } from '../pool';
import { sampleStoreMigrations } from '../samples/sample-store.migrations';

/** Integration tests of the sample store: a fresh database with the store migrated into `schema`. */
export async function openSampleStoreDb(schema: string, poolSize = 4): Promise<{ db: TestDatabase; pool: Pool }> {
  const db = await createTestDatabase();
  const pool = createPool(db.url, { max: poolSize });
  await migrate(pool, { schema, migrations: sampleStoreMigrations(schema) });
  return { db, pool };
}

export async function closeSampleStoreDb(db: TestDatabase | undefined, pool: Pool | undefined): Promise<void> {
  await pool?.end();
  await db?.drop();
}

/** The catalog ids of a metric's series, in id order. */
export async function seriesIdsOf(pool: Pool, schema: string, metric: string): Promise<number[]> {
  const { rows } = await pool.query<{ id: number }>(`SELECT id FROM ${schema}.series WHERE metric = $1 ORDER BY id`, [
    metric,
  ]);
  return rows.map((r) => r.id);
}
