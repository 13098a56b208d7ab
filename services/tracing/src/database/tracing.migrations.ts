import { outboxEventTextMigration } from '@arcwatch/outbox';
import type { Migration } from '@arcwatch/storage';

/**
 * The tracing schema. Assembly state (open_requests) is what makes a restart
 * lose nothing: an event is acked only once its row is committed. `finished_requests` is the
 * gate that makes a second assembly of one request (a late event, a replay) a no-op, and tells
 * the partition of a request for lookups by id.
 */
export const tracingMigrations: Migration[] = [
  {
    id: '0001_assembly',
    up: ({ schema: s }) => `
      CREATE TABLE ${s}.request_events (
        event_id   text PRIMARY KEY,
        request_id text NOT NULL,
        event      jsonb NOT NULL
      );
      CREATE INDEX request_events_request_id ON ${s}.request_events (request_id);

      CREATE TABLE ${s}.open_requests (
        request_id       text PRIMARY KEY,
        first_seen_at    timestamptz NOT NULL,
        last_seen_at     timestamptz NOT NULL,
        terminal_seen_at timestamptz,
        due_at           timestamptz NOT NULL
      );
      CREATE INDEX open_requests_due_at ON ${s}.open_requests (due_at);

      CREATE TABLE ${s}.finished_requests (
        request_id  text PRIMARY KEY,
        started_at  timestamptz NOT NULL,
        finished_at timestamptz NOT NULL
      );

      CREATE TABLE ${s}.requests (
        request_id        text NOT NULL,
        started_at        timestamptz NOT NULL,
        ended_at          timestamptz NOT NULL,
        status            text NOT NULL,
        tenant            text NOT NULL,
        team              text NOT NULL,
        project           text NOT NULL,
        model             text NOT NULL,
        model_version     text NOT NULL,
        instance          text,
        queue_ms          double precision,
        ttft_ms           double precision,
        tpot_ms           double precision,
        e2e_ms            double precision,
        prompt_tokens     integer,
        completion_tokens integer,
        record            jsonb NOT NULL,
        PRIMARY KEY (request_id, started_at)
      ) PARTITION BY RANGE (started_at);
      CREATE INDEX requests_tenant_started ON ${s}.requests (tenant, started_at DESC, request_id DESC);
      CREATE INDEX requests_model_started ON ${s}.requests (model, started_at DESC, request_id DESC);
      CREATE INDEX requests_started ON ${s}.requests (started_at DESC, request_id DESC);

      CREATE TABLE ${s}.outbox (
        id       bigserial PRIMARY KEY,
        event_id text NOT NULL UNIQUE,
        subject  text NOT NULL,
        event    jsonb NOT NULL
      );

      CREATE TABLE ${s}.minute_stats (
        minute        timestamptz NOT NULL,
        model         text NOT NULL,
        model_version text NOT NULL,
        tenant        text NOT NULL,
        stats         jsonb NOT NULL,
        published     boolean NOT NULL DEFAULT false,
        PRIMARY KEY (minute, model, model_version, tenant)
      );
      CREATE INDEX minute_stats_unpublished ON ${s}.minute_stats (minute) WHERE NOT published;

      CREATE TABLE ${s}.counter_totals (
        series_id text PRIMARY KEY,
        labels    jsonb NOT NULL,
        value     double precision NOT NULL
      );`,
  },
  {
    // How far the assembly consumer has read AW_REQUESTS (JetStream stored-at time of the latest
    // committed message): grace periods and abandonment are measured on it, not on wall time.
    id: '0002_consumer_progress',
    up: ({ schema: s }) => `
      CREATE TABLE ${s}.consumer_progress (
        durable   text PRIMARY KEY,
        stored_at timestamptz NOT NULL
      );`,
  },
  {
    // The state of an open request is one row: its distinct events (by event id) live in
    // open_requests.events, so a group of events costs one read and one write per request instead
    // of a row per event, and deciding a request never re-reads its events. The rows of
    // request_events (open requests of an older version) move into that column.
    id: '0003_open_request_state',
    up: ({ schema: s }) => `
      ALTER TABLE ${s}.open_requests ADD COLUMN events jsonb NOT NULL DEFAULT '{}'::jsonb;
      UPDATE ${s}.open_requests o
         SET events = e.events
        FROM (SELECT request_id, jsonb_object_agg(event_id, event) AS events FROM ${s}.request_events GROUP BY request_id) e
       WHERE e.request_id = o.request_id;
      DROP TABLE ${s}.request_events;
      ALTER TABLE ${s}.open_requests ALTER COLUMN events DROP DEFAULT;`,
  },
  outboxEventTextMigration('0004_outbox_event_text'),
  {
    // The primary key leads with started_at: it then also serves the newest-first listing, so
    // requests_started (started_at DESC, request_id DESC) is dropped, one index fewer for every
    // request written; and a request's key lands at the end of the index, where the recent ones
    // are, instead of at a place set by its id. Every read is bounded by started_at, and a read
    // by id has its started_at from finished_requests (docs/decisions/0012).
    id: '0005_requests_key_by_time',
    up: ({ schema: s }) => `
      ALTER TABLE ${s}.requests DROP CONSTRAINT requests_pkey;
      ALTER TABLE ${s}.requests ADD PRIMARY KEY (started_at, request_id);
      DROP INDEX ${s}.requests_started;`,
  },
  {
    // The record is stored as the JSON text the service wrote (json, not jsonb): it is only ever
    // read whole, and PostgreSQL then sends the stored text instead of writing jsonb out again,
    // while the COPY of every assembled request only checks the text instead of building jsonb
    // (a fifth less of that COPY's time, docs/decisions/0016). The node and the GPUs, the two
    // fields a query looked up inside the record, become columns. The ALTER rewrites every
    // partition: on a large store, run it in a quiet period.
    id: '0006_requests_record_json',
    up: ({ schema: s }) => `
      ALTER TABLE ${s}.requests
        ADD COLUMN node text,
        ADD COLUMN gpu_uuids text[] NOT NULL DEFAULT '{}',
        ALTER COLUMN record TYPE json USING record::json;
      UPDATE ${s}.requests
         SET node = record->>'node', gpu_uuids = ARRAY(SELECT json_array_elements_text(record->'gpuUuids'))
       WHERE record->>'node' IS NOT NULL OR json_array_length(record->'gpuUuids') > 0;`,
  },
];
