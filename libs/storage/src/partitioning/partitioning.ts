import { StorageError, assertIdentifier } from '../errors';

export const DAY_MS = 86_400_000;

/** `schema.table`, both parts plain identifiers. */
export interface QualifiedTable {
  schema: string;
  table: string;
}

export function parseQualifiedTable(name: string): QualifiedTable {
  const parts = name.split('.');
  if (parts.length !== 2)
    throw new StorageError('INVALID_IDENTIFIER', `expected schema.table, got ${JSON.stringify(name)}`);
  return { schema: assertIdentifier(parts[0]!), table: assertIdentifier(parts[1]!) };
}

export function utcDayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** Daily partitions are named `<table>_pYYYYMMDD` after their first UTC day. */
export function partitionName(table: string, dayStartMs: number): string {
  const d = new Date(dayStartMs);
  const ymd = `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
  return `${table}_p${ymd}`;
}

/** The first UTC day a partition name stands for, or undefined for names not made here. */
export function partitionDay(table: string, name: string): number | undefined {
  const m = new RegExp(`^${table}_p(\\d{4})(\\d{2})(\\d{2})$`).exec(name);
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

/** UTC day starts covering [fromMs, toMs], inclusive of both ends. */
export function daysCovering(fromMs: number, toMs: number): number[] {
  const out: number[] = [];
  for (let d = utcDayStart(fromMs); d <= toMs; d += DAY_MS) out.push(d);
  return out;
}

export interface PartitionPlan {
  create: number[];
  drop: string[];
}

/**
 * Which daily partitions to create (today and `daysAhead` more, unless they exist) and which to
 * drop: those whose whole day ended at least `retentionDays` before `now`.
 */
export function planPartitions(
  table: string,
  existing: readonly string[],
  opts: { now: number; daysAhead: number; retentionDays?: number },
): PartitionPlan {
  const have = new Set(existing);
  const today = utcDayStart(opts.now);
  const create = daysCovering(today, today + opts.daysAhead * DAY_MS).filter((d) => !have.has(partitionName(table, d)));
  const drop: string[] = [];
  if (opts.retentionDays !== undefined) {
    const cutoff = opts.now - opts.retentionDays * DAY_MS;
    for (const name of existing) {
      const day = partitionDay(table, name);
      if (day !== undefined && day + DAY_MS <= cutoff) drop.push(name);
    }
  }
  return { create, drop: drop.sort() };
}
