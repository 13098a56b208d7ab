import type { Pool } from 'pg';
import { createPool, ensurePartitions, migrate } from '@arcwatch/storage';
import type { TracingConfig } from '../config';
import { tracingMigrations } from './tracing.migrations';

export const PG_POOL = Symbol('PG_POOL');

/** The pool, with the schema migrated and today's partitions (and two days ahead) in place. */
export async function openDatabase(config: TracingConfig): Promise<Pool> {
  const pool = createPool(config.databaseUrl);
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${config.dbSchema}`);
    await migrate(pool, { schema: config.dbSchema, migrations: tracingMigrations });
    await ensurePartitions(pool, `${config.dbSchema}.requests`, { retentionDays: config.retentionDays });
  } catch (err) {
    await pool.end();
    throw err;
  }
  return pool;
}
