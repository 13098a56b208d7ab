import type { Migration } from '@arcwatch/storage';

/** The token store; ids never renamed once shipped. */
export const accessMigrations: Migration[] = [
  {
    id: '0001_tokens_sessions',
    up: ({ schema }) => `
      CREATE TABLE IF NOT EXISTS ${schema}.tokens (
        id text PRIMARY KEY,
        name text NOT NULL,
        token_hash text NOT NULL UNIQUE,
        hint text NOT NULL,
        role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        tenant text,
        created_at timestamptz NOT NULL,
        last_used_at timestamptz,
        revoked_at timestamptz
      );
      CREATE TABLE IF NOT EXISTS ${schema}.sessions (
        session_hash text PRIMARY KEY,
        token_id text NOT NULL REFERENCES ${schema}.tokens (id) ON DELETE CASCADE,
        csrf_hash text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX IF NOT EXISTS sessions_expires_idx ON ${schema}.sessions (expires_at);
    `,
  },
  {
    // The push-only role. The check's name is PostgreSQL's default for the column check above.
    id: '0002_ingest_role',
    up: ({ schema }) => `
      ALTER TABLE ${schema}.tokens DROP CONSTRAINT IF EXISTS tokens_role_check;
      ALTER TABLE ${schema}.tokens ADD CONSTRAINT tokens_role_check
        CHECK (role IN ('viewer', 'operator', 'admin', 'ingest'));
    `,
  },
];
