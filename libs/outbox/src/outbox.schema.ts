import type { Migration } from '@arcwatch/storage';

/**
 * The outbox table of a service's schema: an event written in the same transaction as the state
 * change that decided it, published after commit, deleted after its PubAck. `event` holds the
 * CloudEvent's JSON as it is published (text since outboxEventTextMigration). This migration
 * creates it; a service lists it among its own with an id of its choosing.
 */
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

/**
 * The outbox's event as text: the JSON bytes that will be published, written once by the service
 * and sent as they are. As jsonb, PostgreSQL parsed every event on the way in and wrote it out
 * again on the way out, and the relay parsed it and serialized it once more, for a body nobody
 * queries: a request.completed batch of 500 records is about 400 KB (docs/decisions/0012). Every
 * service lists it after outboxMigration, with an id of its choosing.
 */
export function outboxEventTextMigration(id: string): Migration {
  return {
    id,
    up: ({ schema }) => `
      ALTER TABLE ${schema}.outbox ALTER COLUMN event TYPE text USING event::text;
      DO $$ BEGIN
        ALTER TABLE ${schema}.outbox ALTER COLUMN event SET COMPRESSION lz4;
      EXCEPTION WHEN feature_not_supported THEN NULL;
      END $$;`,
  };
}
