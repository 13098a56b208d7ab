import { outboxEventTextMigration, outboxMigration } from '@arcwatch/outbox';
import type { Migration } from '@arcwatch/storage';

/** The notifier schema; ids never change once shipped. Matches database/notifier.schema.ts. */
export const notifierMigrations: Migration[] = [
  outboxMigration('0000_outbox'),
  {
    id: '0001_notifier',
    up: ({ schema: s }) => `
      CREATE TABLE ${s}.alerts (
        fingerprint   text PRIMARY KEY,
        labels        jsonb NOT NULL,
        annotations   jsonb NOT NULL,
        starts_at     timestamptz NOT NULL,
        ends_at       timestamptz,
        generator_url text NOT NULL,
        updated_at    timestamptz NOT NULL,
        source        text NOT NULL,
        acked_at      timestamptz,
        acked_by      text,
        ack_comment   text
      );
      CREATE INDEX alerts_ends_at ON ${s}.alerts (ends_at);

      CREATE TABLE ${s}.silences (
        id           text PRIMARY KEY,
        matcher_sets jsonb NOT NULL,
        starts_at    timestamptz NOT NULL,
        ends_at      timestamptz NOT NULL,
        created_by   text NOT NULL,
        comment      text NOT NULL,
        updated_at   timestamptz NOT NULL
      );

      CREATE TABLE ${s}.nflog (
        group_key   text NOT NULL,
        receiver    text NOT NULL,
        integration text NOT NULL,
        sequence    integer NOT NULL,
        firing      jsonb NOT NULL,
        resolved    jsonb NOT NULL,
        notified_at timestamptz NOT NULL,
        PRIMARY KEY (group_key, receiver, integration)
      );

      CREATE TABLE ${s}.notifications (
        id           bigserial PRIMARY KEY,
        group_key    text NOT NULL,
        receiver     text NOT NULL,
        integration  text NOT NULL,
        channel      text NOT NULL,
        sequence     integer NOT NULL,
        status       text NOT NULL,
        alert_status text NOT NULL,
        fingerprints jsonb NOT NULL,
        payload      jsonb NOT NULL,
        attempts     integer NOT NULL,
        last_error   text,
        escalation   jsonb,
        created_at   timestamptz NOT NULL,
        finished_at  timestamptz,
        final        boolean NOT NULL DEFAULT false,
        CONSTRAINT notifications_once UNIQUE (group_key, receiver, integration, sequence)
      );
      CREATE INDEX notifications_pending ON ${s}.notifications (status) WHERE status = 'pending';
      CREATE INDEX notifications_fingerprints ON ${s}.notifications USING gin (fingerprints);

      CREATE TABLE ${s}.escalations (
        fingerprint text PRIMARY KEY,
        state       jsonb NOT NULL,
        next_at     timestamptz,
        updated_at  timestamptz NOT NULL
      );`,
  },
  outboxEventTextMigration('0002_outbox_event_text'),
];
