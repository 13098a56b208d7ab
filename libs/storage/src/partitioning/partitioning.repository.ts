import type { Pool, PoolClient } from 'pg';
import { DAY_MS, partitionName } from './partitioning';

type Db = Pool | PoolClient;

/** SQL of the time-partitioning helper. Identifiers are validated by the callers. */

export async function isTimescaleInstalled(db: Db): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS ok`,
  );
  return rows[0]?.ok === true;
}

export async function isHypertable(db: Db, schema: string, table: string): Promise<boolean> {
  if (!(await isTimescaleInstalled(db))) return false;
  const { rows } = await db.query<{ ok: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_schema = $1 AND hypertable_name = $2) AS ok`,
    [schema, table],
  );
  return rows[0]?.ok === true;
}

/** Names of the partitions attached to `schema.table`. */
export async function listPartitions(db: Db, schema: string, table: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name
       FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
       JOIN pg_namespace n ON n.oid = p.relnamespace
      WHERE n.nspname = $1 AND p.relname = $2`,
    [schema, table],
  );
  return rows.map((r) => r.name);
}

/**
 * Creates the daily partitions in one transaction under a per-table advisory lock, so two
 * writers creating the same day do not collide on the catalog.
 */
export async function createDailyPartitions(
  pool: Pool,
  schema: string,
  table: string,
  days: readonly number[],
): Promise<void> {
  if (days.length === 0) return;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`arcwatch.partitions.${schema}.${table}`]);
    for (const day of days) {
      const from = new Date(day).toISOString();
      const to = new Date(day + DAY_MS).toISOString();
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${schema}.${partitionName(table, day)}
           PARTITION OF ${schema}.${table} FOR VALUES FROM ('${from}') TO ('${to}')`,
      );
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export async function dropPartitions(db: Db, schema: string, names: readonly string[]): Promise<void> {
  for (const name of names) await db.query(`DROP TABLE IF EXISTS ${schema}.${name}`);
}

/** TimescaleDB retention: drops whole chunks older than the interval. */
export async function dropTimescaleChunks(db: Db, schema: string, table: string, olderThan: Date): Promise<void> {
  await db.query(`SELECT drop_chunks($1::regclass, older_than => $2::timestamptz)`, [
    `${schema}.${table}`,
    olderThan.toISOString(),
  ]);
}

/**
 * The TimescaleDB rendering of a time-partitioned table: a hypertable with daily chunks, a
 * retention policy and, optionally, native compression. Run only where the extension is
 * installed (the migration context says so); this machine class has no TimescaleDB, so this SQL
 * is reviewed, not exercised, here.
 */
export function timescaleTableSql(opts: {
  schema: string;
  table: string;
  timeColumn: string;
  retentionDays: number;
  compressAfterDays?: number;
  segmentBy?: string;
}): string {
  const t = `${opts.schema}.${opts.table}`;
  const lines = [
    `SELECT create_hypertable('${t}', '${opts.timeColumn}', chunk_time_interval => interval '1 day', if_not_exists => true);`,
    `SELECT add_retention_policy('${t}', interval '${opts.retentionDays} days', if_not_exists => true);`,
  ];
  if (opts.compressAfterDays !== undefined) {
    const seg = opts.segmentBy ? `, timescaledb.compress_segmentby = '${opts.segmentBy}'` : '';
    lines.push(`ALTER TABLE ${t} SET (timescaledb.compress${seg});`);
    lines.push(
      `SELECT add_compression_policy('${t}', interval '${opts.compressAfterDays} days', if_not_exists => true);`,
    );
  }
  return lines.join('\n');
}
