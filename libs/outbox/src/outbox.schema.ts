import { bigserial, jsonb, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';
import type { Migration } from '@arcwatch/storage';

/**
 * The outbox table of a service's schema: an event written in the same transaction as the state
 * change that decided it, published after commit, deleted after its PubAck.
 */
export function outboxTable(schema: string) {
  return pgSchema(schema).table('outbox', {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    eventId: text('event_id').notNull().unique(),
    subject: text('subject').notNull(),
    event: jsonb('event').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  });
}

export type OutboxTable = ReturnType<typeof outboxTable>;

/** The migration that creates it; a service lists it among its own with an id of its choosing. */
export function outboxMigration(id = '0000_outbox'): Migration {
  return {
    id,
    up: ({ schema }) => `
      CREATE TABLE IF NOT EXISTS ${schema}.outbox (
        id         bigserial PRIMARY KEY,
        event_id   text NOT NULL UNIQUE,
        subject    text NOT NULL,
        event      jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );`,
  };
}
