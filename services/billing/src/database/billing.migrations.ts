import { outboxEventTextMigration, outboxMigration } from '@arcwatch/outbox';
import type { Migration } from '@arcwatch/storage';

/**
 * The billing schema. request_intervals is what allocation reads (one row per request record,
 * first one wins, so a redelivery or replay changes nothing); allocation_windows and
 * allocation_lines are the allocation's result per instance window, written once (a window is
 * allocated when `progress.closed_until` passes it); invoice lines are keyed by their row hash,
 * so importing a file again adds nothing.
 */
export const billingMigrations: Migration[] = [
  outboxMigration('0000_outbox'),
  {
    id: '0001_billing',
    up: ({ schema: s }) => `
      CREATE TABLE ${s}.request_intervals (
        request_id        text PRIMARY KEY,
        instance          text NOT NULL,
        node              text,
        start_ms          bigint NOT NULL,
        end_ms            bigint NOT NULL,
        first_token_ms    bigint,
        tenant            text,
        team              text NOT NULL,
        project           text NOT NULL,
        model             text NOT NULL,
        model_version     text NOT NULL,
        api_key_hash      text,
        prompt_tokens     integer NOT NULL,
        completion_tokens integer NOT NULL
      );
      CREATE INDEX request_intervals_start ON ${s}.request_intervals (start_ms);
      CREATE INDEX request_intervals_end ON ${s}.request_intervals (end_ms);

      CREATE TABLE ${s}.instances (
        instance  text PRIMARY KEY,
        node      text,
        gpus      integer NOT NULL,
        gpu_uuids jsonb NOT NULL,
        from_ms   bigint NOT NULL
      );

      CREATE TABLE ${s}.progress (
        name     text PRIMARY KEY,
        value_ms bigint NOT NULL
      );

      CREATE TABLE ${s}.allocation_windows (
        window_start timestamptz NOT NULL,
        window_end   timestamptz NOT NULL,
        instance     text NOT NULL,
        pool         text NOT NULL,
        resource_id  text,
        cost_micro   bigint NOT NULL,
        currency     text NOT NULL,
        method       text NOT NULL,
        idle_policy  text NOT NULL,
        PRIMARY KEY (window_start, instance)
      );

      CREATE TABLE ${s}.allocation_lines (
        window_start     timestamptz NOT NULL,
        instance         text NOT NULL,
        party            text NOT NULL,
        request_id       text,
        tenant           text NOT NULL,
        team             text NOT NULL,
        project          text NOT NULL,
        model            text NOT NULL,
        model_version    text NOT NULL,
        api_key_hash     text,
        kind             text NOT NULL,
        idle_owner       text,
        pool             text NOT NULL,
        amount_micro     bigint NOT NULL,
        idle_share_micro bigint NOT NULL,
        gpu_ms           double precision NOT NULL,
        currency         text NOT NULL,
        PRIMARY KEY (window_start, instance, party)
      );
      CREATE INDEX allocation_lines_request ON ${s}.allocation_lines (request_id) WHERE request_id IS NOT NULL;
      CREATE INDEX allocation_lines_tenant ON ${s}.allocation_lines (tenant, window_start);

      CREATE TABLE ${s}.cost_records (
        event_id     text PRIMARY KEY,
        period_start timestamptz NOT NULL,
        tenant       text NOT NULL,
        amount_micro bigint NOT NULL,
        data         jsonb NOT NULL
      );
      CREATE INDEX cost_records_period ON ${s}.cost_records (period_start);

      CREATE TABLE ${s}.price_catalog (
        id        integer PRIMARY KEY,
        source    text NOT NULL,
        yaml      text NOT NULL,
        loaded_at timestamptz NOT NULL
      );

      CREATE TABLE ${s}.invoice_lines (
        line_id             text PRIMARY KEY,
        line_no             integer NOT NULL,
        resource_id         text,
        charge_period_start timestamptz NOT NULL,
        charge_period_end   timestamptz NOT NULL,
        billed_cost_pico    numeric NOT NULL,
        currency            text NOT NULL,
        charge_category     text NOT NULL,
        line                jsonb NOT NULL
      );
      CREATE INDEX invoice_lines_resource ON ${s}.invoice_lines (resource_id, charge_period_start);

      CREATE TABLE ${s}.invoice_imports (
        import_id   text PRIMARY KEY,
        imported_at timestamptz NOT NULL,
        line_ids    text[] NOT NULL,
        rejects     integer NOT NULL
      );

      CREATE TABLE ${s}.invoice_rejects (
        import_id text NOT NULL,
        line_no   integer NOT NULL,
        reason    text NOT NULL,
        raw       jsonb NOT NULL,
        PRIMARY KEY (import_id, line_no)
      );

      -- Budget events decided once each (exceeded per budget and period, forecasts per as-of hour).
      CREATE TABLE ${s}.budget_events (
        event_id   text PRIMARY KEY,
        decided_at timestamptz NOT NULL
      );

      CREATE TABLE ${s}.reconciliations (
        import_id text PRIMARY KEY,
        run_at    timestamptz NOT NULL,
        summary   jsonb NOT NULL
      );`,
  },
  {
    // Placements observed in the collector's metrics: a row per change (instance moved, GPUs or
    // model changed), effective from the time it was observed.
    id: '0002_metric_placements',
    up: ({ schema: s }) => `
      CREATE TABLE ${s}.metric_placements (
        instance  text NOT NULL,
        from_ms   bigint NOT NULL,
        node      text NOT NULL,
        gpu_uuids jsonb NOT NULL,
        gpu_model text,
        PRIMARY KEY (instance, from_ms)
      );`,
  },
  {
    // What request records state about placement: a row where an instance's node or GPU UUIDs
    // change, from the window the record started in (earlier first placements carried over).
    id: '0003_record_placements',
    up: ({ schema: s }) => `
      CREATE TABLE ${s}.record_placements (
        instance  text NOT NULL,
        from_ms   bigint NOT NULL,
        node      text,
        gpu_uuids jsonb NOT NULL,
        PRIMARY KEY (instance, from_ms)
      );
      INSERT INTO ${s}.record_placements (instance, from_ms, node, gpu_uuids)
        SELECT instance, from_ms, node, gpu_uuids FROM ${s}.instances;`,
  },
  {
    // The end of the last window in which records repeated a row's statement: records speak for the
    // instance until then, metrics after. NULL (rows carried over from instances): until the next row.
    id: '0004_record_placements_to',
    up: ({ schema: s }) => `ALTER TABLE ${s}.record_placements ADD COLUMN to_ms bigint;`,
  },
  outboxEventTextMigration('0005_outbox_event_text'),
];
