import { createHash } from 'node:crypto';
import { z } from 'zod';
import { StorageError, assertIdentifier } from '../errors';

/** What a migration may depend on when it renders its SQL. */
export interface MigrationContext {
  schema: string;
  /**
   * True when the timescaledb extension is installed in this database. A migration that renders
   * differently with it is recorded under the rendering that ran, and `migrate` accepts either
   * rendering later: installing the extension after a store was created is not an edit (the
   * store keeps the layout it was created with).
   */
  timescale: boolean;
}

export interface Migration {
  /** Sortable, unique and never renamed once shipped: `0001_samples`. */
  id: string;
  up: string | ((ctx: MigrationContext) => string);
  /**
   * false for statements PostgreSQL refuses inside a transaction (CREATE INDEX CONCURRENTLY,
   * TimescaleDB continuous aggregates). Such a migration must be safe to re-run.
   */
  transactional?: boolean;
}

const migrationSchema = z.object({
  id: z.string().regex(/^[0-9]{4}_[a-z0-9_]+$/, 'ids look like 0001_name'),
  up: z.union([
    z.string().min(1),
    z.custom<(ctx: MigrationContext) => string>((v) => typeof v === 'function', 'up must be SQL or a function'),
  ]),
  transactional: z.boolean().optional(),
});

export interface RenderedMigration {
  id: string;
  sql: string;
  checksum: string;
  transactional: boolean;
}

/** Validates the list (shape, unique ascending ids) and renders each migration's SQL. */
export function renderMigrations(migrations: readonly Migration[], ctx: MigrationContext): RenderedMigration[] {
  assertIdentifier(ctx.schema);
  const parsed = z.array(migrationSchema).safeParse(migrations);
  if (!parsed.success)
    throw new StorageError(
      'INVALID_MIGRATIONS',
      `invalid migrations for schema ${ctx.schema}: ${parsed.error.message}`,
    );
  const out: RenderedMigration[] = [];
  for (const m of migrations) {
    const prev = out[out.length - 1];
    if (prev && prev.id >= m.id)
      throw new StorageError(
        'INVALID_MIGRATIONS',
        `migration ids must be unique and ascending: ${prev.id} then ${m.id}`,
      );
    const sql = typeof m.up === 'string' ? m.up : m.up(ctx);
    out.push({
      id: m.id,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
      transactional: m.transactional !== false,
    });
  }
  return out;
}
