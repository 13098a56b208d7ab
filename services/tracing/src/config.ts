import { z } from 'zod';
import { REQUEST_COMPLETED_BATCH_MESSAGE_MAX, REQUEST_EVENT_BATCH_MESSAGE_MAX } from '@arcwatch/contracts';
import { accessEnv } from '@arcwatch/access';
import {
  bodyLimitEnv,
  commonEnv,
  dbSchemaEnv,
  env,
  httpEnv,
  parseEnv,
  type ConfigOf,
  type EnvSpec,
} from '@arcwatch/runtime';

/**
 * The tracing service's environment, each variable named once with its schema; parsed once at
 * boot. The API-key mapping is a YAML file (TRACING_API_KEYS_FILE).
 */
export const tracingEnv = {
  ...commonEnv,
  ...httpEnv('TRACING', 8082),
  ...dbSchemaEnv('TRACING', 'tracing'),
  ...accessEnv,
  /** 10,000 events of a few hundred bytes each, with room to spare. */
  ...bodyLimitEnv('TRACING', 32 * 1024 * 1024),
  /** Salt of the API-key HMAC; needed only to accept raw `apiKey` fields at ingest. */
  apiKeySalt: ['TRACING_API_KEY_SALT', z.string().min(16).optional()],
  apiKeysFile: ['TRACING_API_KEYS_FILE', env.optionalText],
  completionGraceMs: ['TRACING_COMPLETION_GRACE_MS', z.coerce.number().int().min(0).default(5_000)],
  abandonAfterMs: ['TRACING_ABANDON_AFTER_MS', z.coerce.number().int().min(1).default(600_000)],
  /** How often due requests are assembled. */
  assemblyIntervalMs: ['TRACING_ASSEMBLY_INTERVAL_MS', z.coerce.number().int().min(10).default(250)],
  /**
   * Events per JetStream message from the HTTP and OTLP ingest: each tenant's events packed into
   * io.arcwatch.requests.event-batch.v1 messages of up to this many (about 45 KB per 500 events);
   * 1 publishes io.arcwatch.requests.event.v1, one message per event, for consumers older than the
   * batch form. Batches are the default since per-message delivery capped the single form at a
   * few thousand events/s (docs/benchmarks.md, "Tracing").
   */
  ingestEventsPerMessage: [
    'TRACING_INGEST_EVENTS_PER_MESSAGE',
    z.coerce.number().int().min(1).max(REQUEST_EVENT_BATCH_MESSAGE_MAX).default(500),
  ],
  /**
   * Worker threads that parse, normalise and publish the HTTP batches of lifecycle events
   * (POST /api/v1/requests/events), so that the main thread, which assembles, does not; 0 does
   * that work on the main thread. More than one helps only where cores are to spare
   * (docs/decisions/0013-ingest-thread.md).
   */
  ingestThreads: ['TRACING_INGEST_THREADS', z.coerce.number().int().min(0).max(16).default(1)],
  /**
   * Assembled requests per JetStream message: each tenant's newly finished requests of a
   * transaction packed into io.arcwatch.requests.completed-batch.v1 messages of up to this many;
   * 1 publishes io.arcwatch.requests.completed.v1, one message per request, for consumers older
   * than the batch form (docs/decisions/0011-completed-request-batches.md).
   */
  completedPerMessage: [
    'TRACING_COMPLETED_PER_MESSAGE',
    z.coerce.number().int().min(1).max(REQUEST_COMPLETED_BATCH_MESSAGE_MAX).default(500),
  ],
  /** A minute's statistics are published this long after it ends, to let late requests in. */
  statsLatenessMs: ['TRACING_STATS_LATENESS_MS', z.coerce.number().int().min(0).default(30_000)],
  /** The `instance` of the statistics series (the same for every replica). */
  statsInstance: ['TRACING_STATS_INSTANCE', z.string().min(1).default('tracing')],
  statsMaxLabelSets: ['TRACING_STATS_MAX_LABEL_SETS', z.coerce.number().int().min(1).default(500)],
  retentionDays: ['TRACING_RETENTION_DAYS', z.coerce.number().int().min(1).optional()],
} as const satisfies EnvSpec;

export type TracingConfig = ConfigOf<typeof tracingEnv>;

export const TRACING_CONFIG = Symbol('TRACING_CONFIG');

export function loadTracingConfig(source: Record<string, string | undefined> = process.env): TracingConfig {
  return parseEnv(tracingEnv, source);
}
