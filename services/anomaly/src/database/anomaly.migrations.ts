import { outboxEventTextMigration, outboxMigration } from '@arcwatch/outbox';
import type { Migration } from '@arcwatch/storage';

/**
 * The anomaly schema. `alert_state` holds each alerting rule's alert states (the decider's plain
 * data), written in the same transaction as the outbox rows of the transitions it decided: after
 * a restart the state is where the last committed evaluation left it, and every transition of
 * that evaluation is queued exactly once (the event id is deterministic; the outbox ignores a
 * repeat).
 */
export const anomalyMigrations: Migration[] = [
  outboxMigration('0000_outbox'),
  {
    id: '0001_alert_state',
    up: ({ schema: s }) => `
      CREATE TABLE ${s}.alert_state (
        rule_key     text PRIMARY KEY,
        state        jsonb NOT NULL,
        evaluated_at timestamptz NOT NULL
      );`,
  },
  outboxEventTextMigration('0002_outbox_event_text'),
];
