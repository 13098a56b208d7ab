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
  storageParameters: Readonly<Record<string, number>> = {},
): Promise<void> {
  if (days.length === 0) return;
  const params = Object.entries(storageParameters).map(([k, v]) => {
    if (!/^[a-z_]+$/.test(k) || !Number.isFinite(v)) throw new Error(`invalid storage parameter ${k} = ${v}`);
    return `${k} = ${v}`;
  });
  const withClause = params.length > 0 ? ` WITH (${params.join(', ')})` : '';
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`arcwatch.partitions.${schema}.${table}`]);
    for (const day of days) {
      const from = new Date(day).toISOString();
      const to = new Date(day + DAY_MS).toISOString();
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${schema}.${partitionName(table, day)}
           PARTITION OF ${schema}.${table} FOR VALUES FROM ('${from}') TO ('${to}')${withClause}`,
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

/** TimescaleDB retention: drops whole chunks whose range ended before `olderThan`; returns their names. */
export async function dropTimescaleChunks(db: Db, schema: string, table: string, olderThan: Date): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT drop_chunks($1::regclass, older_than => $2::timestamptz) AS name`,
    [`${schema}.${table}`, olderThan.toISOString()],
  );
  return rows.map((r) => r.name).sort();
}

/**
 * The TimescaleDB rendering of a time-partitioned table: a hypertable with daily chunks, no
 * default time index (`create_default_indexes => false`: a primary key that includes the time
 * column serves the time-range reads, and a second index is one more write per row) and,
 * optionally, native compression with its policy. No retention policy: retention is the
 * service's configuration, applied by `ensurePartitions` through `drop_chunks`; a policy job
 * beside it would delete what a longer configuration keeps. The SQL depends on the extension,
 * so a migration using it renders differently without it; `migrate` accepts either rendering.
 */
export function timescaleTableSql(opts: {
  schema: string;
  table: string;
  timeColumn: string;
  compressAfterDays?: number;
  segmentBy?: string;
  orderBy?: string;
}): string {
  const t = `${opts.schema}.${opts.table}`;
  const lines = [
    `SELECT create_hypertable('${t}', '${opts.timeColumn}', chunk_time_interval => interval '1 day', create_default_indexes => false, if_not_exists => true);`,
  ];
  if (opts.compressAfterDays !== undefined) {
    const seg = opts.segmentBy ? `, timescaledb.compress_segmentby = '${opts.segmentBy}'` : '';
    const order = opts.orderBy ? `, timescaledb.compress_orderby = '${opts.orderBy}'` : '';
    lines.push(`ALTER TABLE ${t} SET (timescaledb.compress${seg}${order});`);
    lines.push(
      `SELECT add_compression_policy('${t}', compress_after => interval '${opts.compressAfterDays} days', if_not_exists => true);`,
    );
  }
  return lines.join('\n');
}
