import { bigserial, boolean, integer, jsonb, pgSchema, primaryKey, text, timestamp, unique } from 'drizzle-orm/pg-core';

/**
 * The notifier's relational tables (schema `notifier` by default; tests use their own). Alerts and
 * silences are Alertmanager's state; the notification log is Alertmanager's nflog plus the
 * delivery record the API shows; escalations hold each alert's escalation state, from which the
 * reconciler re-creates timers when Redis lost them.
 */
export function notifierTables(schema: string) {
  const s = pgSchema(schema);
  return {
    alerts: s.table('alerts', {
      fingerprint: text('fingerprint').primaryKey(),
      labels: jsonb('labels').$type<Record<string, string>>().notNull(),
      annotations: jsonb('annotations').$type<Record<string, string>>().notNull(),
      startsAt: timestamp('starts_at', { withTimezone: true }).notNull(),
      endsAt: timestamp('ends_at', { withTimezone: true }),
      generatorUrl: text('generator_url').notNull(),
      updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
      source: text('source').notNull(),
      ackedAt: timestamp('acked_at', { withTimezone: true }),
      ackedBy: text('acked_by'),
      ackComment: text('ack_comment'),
    }),
    silences: s.table('silences', {
      id: text('id').primaryKey(),
      matcherSets: jsonb('matcher_sets').$type<{ name: string; type: string; value: string }[][]>().notNull(),
      startsAt: timestamp('starts_at', { withTimezone: true }).notNull(),
      endsAt: timestamp('ends_at', { withTimezone: true }).notNull(),
      createdBy: text('created_by').notNull(),
      comment: text('comment').notNull(),
      updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    }),
    nflog: s.table(
      'nflog',
      {
        groupKey: text('group_key').notNull(),
        receiver: text('receiver').notNull(),
        integration: text('integration').notNull(),
        sequence: integer('sequence').notNull(),
        firing: jsonb('firing').$type<string[]>().notNull(),
        resolved: jsonb('resolved').$type<string[]>().notNull(),
        notifiedAt: timestamp('notified_at', { withTimezone: true }).notNull(),
      },
      (t) => [primaryKey({ columns: [t.groupKey, t.receiver, t.integration] })],
    ),
    notifications: s.table(
      'notifications',
      {
        id: bigserial('id', { mode: 'number' }).primaryKey(),
        groupKey: text('group_key').notNull(),
        receiver: text('receiver').notNull(),
        integration: text('integration').notNull(),
        channel: text('channel').notNull(),
        sequence: integer('sequence').notNull(),
        status: text('status').$type<'pending' | 'delivered' | 'failed' | 'skipped'>().notNull(),
        alertStatus: text('alert_status').notNull(),
        fingerprints: jsonb('fingerprints').$type<string[]>().notNull(),
        payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
        attempts: integer('attempts').notNull(),
        lastError: text('last_error'),
        escalation: jsonb('escalation').$type<{ policy: string; level: number; cycle: number } | null>(),
        createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
        finishedAt: timestamp('finished_at', { withTimezone: true }),
        final: boolean('final').notNull().default(false),
      },
      (t) => [unique('notifications_once').on(t.groupKey, t.receiver, t.integration, t.sequence)],
    ),
    escalations: s.table('escalations', {
      fingerprint: text('fingerprint').primaryKey(),
      state: jsonb('state').$type<Record<string, unknown>>().notNull(),
      nextAt: timestamp('next_at', { withTimezone: true }),
      updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    }),
  };
}

export type NotifierTables = ReturnType<typeof notifierTables>;
