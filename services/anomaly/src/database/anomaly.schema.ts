import { jsonb, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';
import type { RuleAlertState } from '@arcwatch/alerting';

/** drizzle definitions of the anomaly tables (see anomaly.migrations.ts). */
export function anomalyTables(schema: string) {
  const s = pgSchema(schema);
  return {
    alertState: s.table('alert_state', {
      ruleKey: text('rule_key').primaryKey(),
      state: jsonb('state').$type<RuleAlertState>().notNull(),
      evaluatedAt: timestamp('evaluated_at', { withTimezone: true }).notNull(),
    }),
  };
}
