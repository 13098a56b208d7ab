import type { Pool } from 'pg';
import { StorageError } from '../errors';
import { renderMigrations, type Migration } from './migration';
import {
  appliedMigrations,
  ensureMigrationsTable,
  recordMigration,
  timescaleStatus,
  tryLockSchema,
  unlockSchema,
} from './migrations.repository';

export interface MigrateOptions {
  schema: string;
  migrations: readonly Migration[];
  /** Force the TimescaleDB or the plain-PostgreSQL rendering; detected when left out. */
  timescale?: boolean;
  /** How long to wait for another process's migration run (default 5 minutes). */
  lockTimeoutMs?: number;
}

export interface MigrateResult {
  applied: string[];
  timescale: boolean;
}

/**
 * Applies the pending migrations of one service schema, in order, each in its own transaction
 * (unless flagged `transactional: false`). A session advisory lock per schema makes processes
 * that start together wait for each other instead of racing on the same DDL.
 */
export async function migrate(pool: Pool, opts: MigrateOptions): Promise<MigrateResult> {
  const client = await pool.connect();
  try {
    const ts = opts.timescale ?? (await timescaleStatus(client)).installed;
    const rendered = renderMigrations(opts.migrations, { schema: opts.schema, timescale: ts });
    // A migration whose SQL depends on the extension was recorded under the rendering that ran;
    // either rendering is the same migration, so installing TimescaleDB later is not an edit.
    const otherRendering = renderMigrations(opts.migrations, { schema: opts.schema, timescale: !ts });
    const deadline = Date.now() + (opts.lockTimeoutMs ?? 300_000);
    while (!(await tryLockSchema(client, opts.schema))) {
      if (Date.now() > deadline)
        throw new StorageError(
          'MIGRATION_LOCK_TIMEOUT',
          `another process held the migration lock of ${opts.schema} too long`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      await ensureMigrationsTable(client, opts.schema);
      const done = await appliedMigrations(client, opts.schema);
      const applied: string[] = [];
      for (const [i, m] of rendered.entries()) {
        const previous = done.get(m.id);
        if (previous !== undefined) {
          if (previous !== m.checksum && previous !== otherRendering[i]!.checksum) {
            throw new StorageError(
              'MIGRATION_CHECKSUM_MISMATCH',
              `migration ${opts.schema}/${m.id} was changed after it was applied`,
            );
          }
          continue;
        }
        try {
          if (m.transactional) {
            await client.query('BEGIN');
            await client.query(m.sql);
            await recordMigration(client, opts.schema, m.id, m.checksum);
            await client.query('COMMIT');
          } else {
            await client.query(m.sql);
            await recordMigration(client, opts.schema, m.id, m.checksum);
          }
        } catch (err) {
          if (m.transactional) await client.query('ROLLBACK').catch(() => undefined);
          throw new StorageError(
            'MIGRATION_FAILED',
            `migration ${opts.schema}/${m.id} failed: ${(err as Error).message}`,
            { cause: err },
          );
        }
        applied.push(m.id);
      }
      return { applied, timescale: ts };
    } finally {
      await unlockSchema(client, opts.schema).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}
