import { assertIdentifier } from '../errors';
import type { Migration, MigrationContext } from '../migrations/migration';

/**
 * The sample store's tables inside a service schema:
 * - series: the catalog (labels without __name__, which is `metric`), unique by labels hash, and
 *   series_ranges: each series' first and last compacted sample time (0007);
 * - batch_log: ids of ingested batches, so a redelivered batch is recognised after compaction;
 * - head: one row per ingested batch, raw (see head-payload.codec.ts), until compacted;
 * - chunks: per series and aligned time bucket, encoded samples (chunk.codec.ts: decimal or XOR),
 *   daily-partitioned on start_time (or a hypertable under TimescaleDB).
 */
export function sampleStoreMigrations(schema: string): Migration[] {
  assertIdentifier(schema);
  return [
    {
      id: '0001_sample_store',
      up: (ctx: MigrationContext) => {
        const s = schema;
        const chunks = `CREATE TABLE ${s}.chunks (
            series_id int4 NOT NULL,
            start_time timestamptz NOT NULL,
            end_time timestamptz NOT NULL,
            count int4 NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (series_id, start_time)
          )`;
        return `
          CREATE TABLE ${s}.series (
            id serial PRIMARY KEY,
            metric text NOT NULL,
            labels jsonb NOT NULL,
            labels_hash bytea NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now()
          );
          CREATE TABLE ${s}.batch_log (
            batch_id text PRIMARY KEY,
            max_ts int8 NOT NULL
          );
          -- head rows are written once and deleted by the compactor; their payload is
          -- incompressible float bits, so keep it inline and skip the pglz attempt
          CREATE TABLE ${s}.head (
            batch_id text PRIMARY KEY,
            min_ts int8 NOT NULL,
            max_ts int8 NOT NULL,
            samples int4 NOT NULL,
            payload bytea NOT NULL
          ) WITH (toast_tuple_target = 8160, autovacuum_vacuum_scale_factor = 0.05);
          ALTER TABLE ${s}.head ALTER COLUMN payload SET STORAGE EXTERNAL;
          ${ctx.timescale ? `${chunks};\n${hypertableAsShipped(s)}` : `${chunks} PARTITION BY RANGE (start_time);`}
          -- chunks are already compressed by their encoding
          ALTER TABLE ${s}.chunks ALTER COLUMN data SET STORAGE EXTERNAL;
        `;
      },
    },
    {
      // What the Prometheus API answers beyond samples: the time range of each series (kept by
      // compaction, for start/end on the catalog endpoints and pruning by retention), the
      // metadata targets declared, and exemplars.
      id: '0002_series_range_metadata_exemplars',
      up: `
        ALTER TABLE ${schema}.series ADD COLUMN first_ms int8, ADD COLUMN last_ms int8;
        -- series compacted before this migration: their chunks' span (a bucket start is at most
        -- one span before the first sample, so the window test errs on the side of listing)
        UPDATE ${schema}.series s SET first_ms = c.first_ms, last_ms = c.last_ms
          FROM (SELECT series_id, (extract(epoch FROM min(start_time)) * 1000)::int8 AS first_ms,
                       (extract(epoch FROM max(end_time)) * 1000)::int8 AS last_ms
                  FROM ${schema}.chunks GROUP BY series_id) c
         WHERE s.id = c.series_id;
        CREATE INDEX series_last_ms_idx ON ${schema}.series (last_ms);
        CREATE TABLE ${schema}.metadata (
          metric text NOT NULL,
          type text NOT NULL,
          help text NOT NULL,
          unit text NOT NULL,
          last_seen_ms int8 NOT NULL,
          PRIMARY KEY (metric, type, help, unit)
        );
        CREATE TABLE ${schema}.exemplars (
          series_id int4 NOT NULL,
          ts int8 NOT NULL,
          value float8 NOT NULL,
          labels jsonb NOT NULL,
          PRIMARY KEY (series_id, ts)
        );
        CREATE INDEX exemplars_ts_idx ON ${schema}.exemplars (ts);
      `,
    },
    {
      // The chunk read cache identified row versions by xmin, which TimescaleDB's compressed
      // chunks cannot return: every write now stamps its transaction id. On a hypertable (decided
      // here, at run time, so the SQL and its checksum are the same with and without the
      // extension), 0001's leftovers go: its fixed 30-day retention job (retention follows the
      // service's configuration, through drop_chunks) and the time index create_hypertable added
      // (the primary key serves every read; the second index only cost every compaction write).
      // Native compression, segmented by series, compresses day chunks a day after they end.
      id: '0003_chunk_version_timescale_layout',
      up: `
        ALTER TABLE ${schema}.chunks ADD COLUMN version int8 NOT NULL DEFAULT 0;
        DO $$
        BEGIN
          IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
            IF EXISTS (SELECT 1 FROM timescaledb_information.hypertables
                        WHERE hypertable_schema = '${schema}' AND hypertable_name = 'chunks') THEN
              PERFORM remove_retention_policy('${schema}.chunks', if_exists => true);
              DROP INDEX IF EXISTS ${schema}.chunks_start_time_idx;
              ALTER TABLE ${schema}.chunks SET (
                timescaledb.compress,
                timescaledb.compress_segmentby = 'series_id',
                timescaledb.compress_orderby = 'start_time'
              );
              PERFORM add_compression_policy('${schema}.chunks', compress_after => interval '1 day', if_not_exists => true);
            END IF;
          END IF;
        END $$;
      `,
    },
    {
      // Rollups (rollup.codec.ts): per series, resolution and chunk, the partial aggregates that
      // long range queries read instead of raw samples. A resolution is used for reads once
      // rollup_levels says every stored chunk has its rollup (at once on an empty store; after
      // the maintenance backfill on one that has chunks from before).
      id: '0004_rollups',
      up: `
        CREATE TABLE ${schema}.rollups (
          series_id int4 NOT NULL,
          resolution_ms int4 NOT NULL,
          start_time timestamptz NOT NULL,
          data bytea NOT NULL,
          PRIMARY KEY (series_id, resolution_ms, start_time)
        );
        ALTER TABLE ${schema}.rollups ALTER COLUMN data SET STORAGE EXTERNAL;
        CREATE TABLE ${schema}.rollup_levels (
          resolution_ms int4 PRIMARY KEY,
          complete boolean NOT NULL
        );
      `,
    },
    {
      // Per chunk bucket, the number of the last write into it (from one sequence, so a number
      // never returns after retention deletes its row): a read whose decoded chunks were
      // validated at these numbers serves them without asking for every row's version
      // (chunk-read.ts).
      id: '0005_chunk_changes',
      up: `
        CREATE SEQUENCE ${schema}.chunk_change_seq;
        CREATE TABLE ${schema}.chunk_changes (
          start_ms int8 PRIMARY KEY,
          change int8 NOT NULL
        );
      `,
    },
    {
      // Reads list only the head rows that reach into their window, and compaction takes the
      // oldest rows first: both by the rows' newest sample. Without it every instant query sorted
      // the whole head (45,000 rows for five minutes of a 1 s fleet) to read a few seconds of it.
      id: '0006_head_max_ts_index',
      up: `CREATE INDEX head_max_ts_idx ON ${schema}.head (max_ts);`,
    },
    {
      // Each series' time range in a narrow table of its own. Every compaction pass widens the
      // range of every series it folds; in the catalog row that rewrote the labels with it and
      // added an entry to each of the catalog's three indexes (last_ms among them), 27,500
      // catalog rows a pass for the 1,000-GPU fleet. Here the update touches 48 bytes, changes no
      // indexed column and finds room on its page (fillfactor 50), so PostgreSQL updates in place
      // (HOT) and the catalog rows are written once.
      id: '0007_series_ranges',
      up: `
        CREATE TABLE ${schema}.series_ranges (
          series_id int4 PRIMARY KEY,
          first_ms int8 NOT NULL,
          last_ms int8 NOT NULL
        ) WITH (fillfactor = 50);
        INSERT INTO ${schema}.series_ranges (series_id, first_ms, last_ms)
          SELECT id, first_ms, last_ms FROM ${schema}.series WHERE first_ms IS NOT NULL AND last_ms IS NOT NULL;
        DROP INDEX ${schema}.series_last_ms_idx;
        ALTER TABLE ${schema}.series DROP COLUMN first_ms, DROP COLUMN last_ms;
      `,
    },
  ];
}

/**
 * 0001's TimescaleDB rendering exactly as it shipped: stores created with it have its checksum on
 * record, so it stays byte for byte (migration 0003 removes the retention job and the index).
 */
function hypertableAsShipped(s: string): string {
  return [
    `SELECT create_hypertable('${s}.chunks', 'start_time', chunk_time_interval => interval '1 day', if_not_exists => true);`,
    `SELECT add_retention_policy('${s}.chunks', interval '30 days', if_not_exists => true);`,
  ].join('\n');
}
