import {
  bigint,
  doublePrecision,
  integer,
  jsonb,
  numeric,
  pgSchema,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

/**
 * drizzle definitions of billing's relational tables, in step with billing.migrations.ts (the SQL
 * that creates them). Simple reads go through these; bulk writes (unnest) and the report
 * aggregates stay in SQL in the repositories, with the reason beside them.
 */
export function billingTables(schema: string) {
  const s = pgSchema(schema);
  const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
  const ms = (name: string) => bigint(name, { mode: 'number' });
  return {
    requestIntervals: s.table('request_intervals', {
      requestId: text('request_id').primaryKey(),
      instance: text('instance').notNull(),
      node: text('node'),
      startMs: ms('start_ms').notNull(),
      endMs: ms('end_ms').notNull(),
      firstTokenMs: ms('first_token_ms'),
      tenant: text('tenant'),
      team: text('team').notNull(),
      project: text('project').notNull(),
      model: text('model').notNull(),
      modelVersion: text('model_version').notNull(),
      apiKeyHash: text('api_key_hash'),
      promptTokens: integer('prompt_tokens').notNull(),
      completionTokens: integer('completion_tokens').notNull(),
    }),
    instances: s.table('instances', {
      instance: text('instance').primaryKey(),
      node: text('node'),
      gpus: integer('gpus').notNull(),
      gpuUuids: jsonb('gpu_uuids').$type<string[]>().notNull(),
      fromMs: ms('from_ms').notNull(),
    }),
    progress: s.table('progress', { name: text('name').primaryKey(), valueMs: ms('value_ms').notNull() }),
    allocationWindows: s.table(
      'allocation_windows',
      {
        windowStart: ts('window_start').notNull(),
        windowEnd: ts('window_end').notNull(),
        instance: text('instance').notNull(),
        pool: text('pool').notNull(),
        resourceId: text('resource_id'),
        costMicro: bigint('cost_micro', { mode: 'bigint' }).notNull(),
        currency: text('currency').notNull(),
        method: text('method').notNull(),
        idlePolicy: text('idle_policy').notNull(),
      },
      (t) => [primaryKey({ columns: [t.windowStart, t.instance] })],
    ),
    allocationLines: s.table(
      'allocation_lines',
      {
        windowStart: ts('window_start').notNull(),
        instance: text('instance').notNull(),
        party: text('party').notNull(),
        requestId: text('request_id'),
        tenant: text('tenant').notNull(),
        team: text('team').notNull(),
        project: text('project').notNull(),
        model: text('model').notNull(),
        modelVersion: text('model_version').notNull(),
        apiKeyHash: text('api_key_hash'),
        kind: text('kind').notNull(),
        idleOwner: text('idle_owner'),
        pool: text('pool').notNull(),
        amountMicro: bigint('amount_micro', { mode: 'bigint' }).notNull(),
        idleShareMicro: bigint('idle_share_micro', { mode: 'bigint' }).notNull(),
        gpuMs: doublePrecision('gpu_ms').notNull(),
        currency: text('currency').notNull(),
      },
      (t) => [primaryKey({ columns: [t.windowStart, t.instance, t.party] })],
    ),
    costRecords: s.table('cost_records', {
      eventId: text('event_id').primaryKey(),
      periodStart: ts('period_start').notNull(),
      tenant: text('tenant').notNull(),
      amountMicro: bigint('amount_micro', { mode: 'bigint' }).notNull(),
      data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    }),
    priceCatalog: s.table('price_catalog', {
      id: integer('id').primaryKey(),
      source: text('source').notNull(),
      yaml: text('yaml').notNull(),
      loadedAt: ts('loaded_at').notNull(),
    }),
    invoiceLines: s.table('invoice_lines', {
      lineId: text('line_id').primaryKey(),
      lineNo: integer('line_no').notNull(),
      resourceId: text('resource_id'),
      chargePeriodStart: ts('charge_period_start').notNull(),
      chargePeriodEnd: ts('charge_period_end').notNull(),
      billedCostPico: numeric('billed_cost_pico').notNull(),
      currency: text('currency').notNull(),
      chargeCategory: text('charge_category').notNull(),
      line: jsonb('line').$type<Record<string, unknown>>().notNull(),
    }),
    invoiceImports: s.table('invoice_imports', {
      importId: text('import_id').primaryKey(),
      importedAt: ts('imported_at').notNull(),
      lineIds: text('line_ids').array().notNull(),
      rejects: integer('rejects').notNull(),
    }),
    invoiceRejects: s.table(
      'invoice_rejects',
      {
        importId: text('import_id').notNull(),
        lineNo: integer('line_no').notNull(),
        reason: text('reason').notNull(),
        raw: jsonb('raw').$type<Record<string, string>>().notNull(),
      },
      (t) => [primaryKey({ columns: [t.importId, t.lineNo] })],
    ),
    reconciliations: s.table('reconciliations', {
      importId: text('import_id').primaryKey(),
      runAt: ts('run_at').notNull(),
      summary: jsonb('summary').$type<Record<string, unknown>>().notNull(),
    }),
  };
}
export type BillingTables = ReturnType<typeof billingTables>;
