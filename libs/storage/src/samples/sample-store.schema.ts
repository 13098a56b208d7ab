import { customType, integer, jsonb, pgSchema, serial, text, timestamp } from 'drizzle-orm/pg-core';

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
    chunks: s.table('chunks', {
      seriesId: integer('series_id').notNull(),
      startTime: timestamp('start_time', { withTimezone: true }).notNull(),
      endTime: timestamp('end_time', { withTimezone: true }).notNull(),
      count: integer('count').notNull(),
      data: bytea('data').notNull(),
    }),
  };
}
