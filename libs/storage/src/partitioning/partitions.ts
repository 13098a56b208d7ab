import type { Pool } from 'pg';
import { DAY_MS, daysCovering, parseQualifiedTable, partitionName, planPartitions } from './partitioning';
import {
  createDailyPartitions,
  dropPartitions,
  dropTimescaleChunks,
  isHypertable,
  listPartitions,
} from './partitioning.repository';

export interface EnsurePartitionsOptions {
  /** Partitions created beyond today (default 2), so a writer never meets a missing day. */
  daysAhead?: number;
  /** Partitions whose day ended this long ago are dropped; keep everything when left out. */
  retentionDays?: number;
  now?: number;
  /** Storage parameters of the partitions created (`WITH (…)`); a partitioned parent cannot hold them. */
  storageParameters?: Readonly<Record<string, number>>;
}

export interface EnsurePartitionsResult {
  mode: 'native' | 'timescale';
  created: string[];
  /** Partitions dropped (`<table>_pYYYYMMDD`), or on a hypertable the chunks drop_chunks dropped. */
  dropped: string[];
}

/**
 * Keeps a time-partitioned table's days in shape: on plain PostgreSQL, daily RANGE partitions
 * are created ahead and expired ones dropped; on a TimescaleDB hypertable, chunks come by
 * themselves and retention is `drop_chunks`. Call it at start-up and then hourly.
 */
export async function ensurePartitions(
  pool: Pool,
  qualifiedTable: string,
  opts: EnsurePartitionsOptions = {},
): Promise<EnsurePartitionsResult> {
  const { schema, table } = parseQualifiedTable(qualifiedTable);
  const now = opts.now ?? Date.now();
  if (await isHypertable(pool, schema, table)) {
    const dropped =
      opts.retentionDays === undefined
        ? []
        : await dropTimescaleChunks(pool, schema, table, new Date(now - opts.retentionDays * DAY_MS));
    return { mode: 'timescale', created: [], dropped };
  }
  const existing = await listPartitions(pool, schema, table);
  const plan = planPartitions(table, existing, {
    now,
    daysAhead: opts.daysAhead ?? 2,
    retentionDays: opts.retentionDays,
  });
  await createDailyPartitions(pool, schema, table, plan.create, opts.storageParameters);
  await dropPartitions(pool, schema, plan.drop);
  return { mode: 'native', created: plan.create.map((d) => partitionName(table, d)), dropped: plan.drop };
}

/**
 * Creates any missing daily partitions covering [fromMs, toMs] (a backfill or a late batch may
 * land outside the days created ahead). Returns the names it created.
 */
export async function ensurePartitionsCovering(
  pool: Pool,
  qualifiedTable: string,
  fromMs: number,
  toMs: number,
  storageParameters: Readonly<Record<string, number>> = {},
): Promise<string[]> {
  const { schema, table } = parseQualifiedTable(qualifiedTable);
  if (await isHypertable(pool, schema, table)) return [];
  const have = new Set(await listPartitions(pool, schema, table));
  const missing = daysCovering(fromMs, toMs).filter((d) => !have.has(partitionName(table, d)));
  await createDailyPartitions(pool, schema, table, missing, storageParameters);
  return missing.map((d) => partitionName(table, d));
}
