import { pgSchema, text, timestamp } from 'drizzle-orm/pg-core';

/** drizzle definitions of the access tables, in step with access.migrations.ts. */
export function accessTables(schema: string) {
  const s = pgSchema(schema);
  const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
  return {
    tokens: s.table('tokens', {
      id: text('id').primaryKey(),
      name: text('name').notNull(),
      tokenHash: text('token_hash').notNull().unique(),
      hint: text('hint').notNull(),
      role: text('role').notNull(),
      tenant: text('tenant'),
      createdAt: ts('created_at').notNull(),
      lastUsedAt: ts('last_used_at'),
      revokedAt: ts('revoked_at'),
    }),
    sessions: s.table('sessions', {
      sessionHash: text('session_hash').primaryKey(),
      tokenId: text('token_id').notNull(),
      csrfHash: text('csrf_hash').notNull(),
      createdAt: ts('created_at').notNull(),
      expiresAt: ts('expires_at').notNull(),
    }),
  };
}
export type AccessTables = ReturnType<typeof accessTables>;
