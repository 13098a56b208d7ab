import {
  bigint,
  customType,
  doublePrecision,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  serial,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/**
 * drizzle definitions of the sample store's catalog tables, for services that list or inspect
 * series with drizzle (the console, admin tools). The hot paths (ingest, compaction, reads) use
 * the hand-written SQL in sample-store.repository.ts. Keep in step with sample-store.migrations.ts.
 */
export function sampleStoreTables(schema: string) {
  const s = pgSchema(schema);
  return {
    series: s.table('series', {
      id: serial('id').primaryKey(),
      metric: text('metric').notNull(),
      labels: jsonb('labels').$type<Record<string, string>>().notNull(),
      labelsHash: bytea('labels_hash').notNull().unique(),
      createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    }),
    /** First and last sample time of a series' compacted data (ms); no row until its first compaction. */
    seriesRanges: s.table('series_ranges', {
      seriesId: integer('series_id').primaryKey(),
      firstMs: bigint('first_ms', { mode: 'number' }).notNull(),
      lastMs: bigint('last_ms', { mode: 'number' }).notNull(),
    }),
    /** HELP / TYPE / UNIT as targets declared them; one row per distinct declaration of a family. */
    metadata: s.table(
      'metadata',
      {
        metric: text('metric').notNull(),
        type: text('type').notNull(),
        help: text('help').notNull(),
        unit: text('unit').notNull(),
        lastSeenMs: bigint('last_seen_ms', { mode: 'number' }).notNull(),
      },
      (t) => [primaryKey({ columns: [t.metric, t.type, t.help, t.unit] })],
    ),
    /** Exemplars per series and time (OpenMetrics exemplars, tracing's request ids). */
    exemplars: s.table(
      'exemplars',
      {
        seriesId: integer('series_id').notNull(),
        ts: bigint('ts', { mode: 'number' }).notNull(),
        value: doublePrecision('value').notNull(),
        labels: jsonb('labels').$type<Record<string, string>>().notNull(),
      },
      (t) => [primaryKey({ columns: [t.seriesId, t.ts] })],
    ),
    chunks: s.table('chunks', {
      seriesId: integer('series_id').notNull(),
      startTime: timestamp('start_time', { withTimezone: true }).notNull(),
      endTime: timestamp('end_time', { withTimezone: true }).notNull(),
      count: integer('count').notNull(),
      data: bytea('data').notNull(),
    }),
  };
}
