import {
  boolean,
  doublePrecision,
  integer,
  json,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import type { RequestCompletedV1, RequestEventV1 } from '@arcwatch/contracts';

/**
 * drizzle definitions of tracing's relational tables, in step with tracing.migrations.ts (the
 * SQL that creates them; `requests` is partitioned by day there, which drizzle does not model).
 * Reads go through these; the assembly's hot statements stay in SQL (assembly.repository.ts).
 */
export function tracingTables(schema: string) {
  const s = pgSchema(schema);
  const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
  return {
    openRequests: s.table('open_requests', {
      requestId: text('request_id').primaryKey(),
      firstSeenAt: ts('first_seen_at').notNull(),
      lastSeenAt: ts('last_seen_at').notNull(),
      terminalSeenAt: ts('terminal_seen_at'),
      dueAt: ts('due_at').notNull(),
      events: jsonb('events').$type<Record<string, RequestEventV1>>().notNull(),
    }),
    finishedRequests: s.table('finished_requests', {
      requestId: text('request_id').primaryKey(),
      startedAt: ts('started_at').notNull(),
      finishedAt: ts('finished_at').notNull(),
    }),
    requests: s.table(
      'requests',
      {
        requestId: text('request_id').notNull(),
        startedAt: ts('started_at').notNull(),
        endedAt: ts('ended_at').notNull(),
        status: text('status').notNull(),
        tenant: text('tenant').notNull(),
        team: text('team').notNull(),
        project: text('project').notNull(),
        model: text('model').notNull(),
        modelVersion: text('model_version').notNull(),
        instance: text('instance'),
        queueMs: doublePrecision('queue_ms'),
        ttftMs: doublePrecision('ttft_ms'),
        tpotMs: doublePrecision('tpot_ms'),
        e2eMs: doublePrecision('e2e_ms'),
        promptTokens: integer('prompt_tokens'),
        completionTokens: integer('completion_tokens'),
        node: text('node'),
        gpuUuids: text('gpu_uuids').array().notNull(),
        record: json('record').$type<RequestCompletedV1>().notNull(),
      },
      (t) => [primaryKey({ columns: [t.startedAt, t.requestId] })],
    ),
    minuteStats: s.table(
      'minute_stats',
      {
        minute: ts('minute').notNull(),
        model: text('model').notNull(),
        modelVersion: text('model_version').notNull(),
        tenant: text('tenant').notNull(),
        stats: jsonb('stats').notNull(),
        published: boolean('published').notNull().default(false),
      },
      (t) => [primaryKey({ columns: [t.minute, t.model, t.modelVersion, t.tenant] })],
    ),
    consumerProgress: s.table('consumer_progress', {
      durable: text('durable').primaryKey(),
      storedAt: ts('stored_at').notNull(),
    }),
  };
}

export type TracingTables = ReturnType<typeof tracingTables>;
