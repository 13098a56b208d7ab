import { z } from 'zod';
import { REQUEST_EVENT_BATCH_MESSAGE_MAX } from '@arcwatch/contracts';

/**
 * The tracing service's process configuration, parsed once at boot; no other file reads
 * process.env. The API-key mapping is a YAML file (TRACING_API_KEYS_FILE).
 */
export const tracingEnvSchema = z.object({
  DATABASE_URL: z.string().min(1).default('postgres://postgres@127.0.0.1:5432/postgres'),
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  /** Prefix for streams and subjects, so tests (or tenants of one NATS) stay apart. */
  NATS_NAMESPACE: z.string().regex(/^[A-Za-z0-9_-]*$/).optional(),
  TRACING_PORT: z.coerce.number().int().min(0).max(65535).default(8082),
  TRACING_HOST: z.string().min(1).default('0.0.0.0'),
  TRACING_DB_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('tracing'),
  /** Salt of the API-key HMAC; needed only to accept raw `apiKey` fields at ingest. */
  TRACING_API_KEY_SALT: z.string().min(16).optional(),
  TRACING_API_KEYS_FILE: z.string().min(1).optional(),
  TRACING_COMPLETION_GRACE_MS: z.coerce.number().int().min(0).default(5_000),
  TRACING_ABANDON_AFTER_MS: z.coerce.number().int().min(1).default(600_000),
  /** How often due requests are assembled. */
  TRACING_ASSEMBLY_INTERVAL_MS: z.coerce.number().int().min(10).default(250),
  /** A minute's statistics are published this long after it ends, to let late requests in. */
  /**
   * Events per JetStream message from the HTTP and OTLP ingest: 1 publishes
   * io.arcwatch.requests.event.v1 (one message per event); more packs each tenant's events into
   * io.arcwatch.requests.event-batch.v1 messages. Raise it only once every consumer of
   * aw.requests.v1.events.> reads the batch form (tracing does from this version on).
   */
  TRACING_INGEST_EVENTS_PER_MESSAGE: z.coerce.number().int().min(1).max(REQUEST_EVENT_BATCH_MESSAGE_MAX).default(1),
  TRACING_STATS_LATENESS_MS: z.coerce.number().int().min(0).default(30_000),
  /** The `instance` of the statistics series (the same for every replica). */
  TRACING_STATS_INSTANCE: z.string().min(1).default('tracing'),
  TRACING_STATS_MAX_LABEL_SETS: z.coerce.number().int().min(1).default(500),
  TRACING_RETENTION_DAYS: z.coerce.number().int().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface TracingConfig {
  databaseUrl: string;
  natsUrl: string;
  natsNamespace: string | undefined;
  port: number;
  host: string;
  dbSchema: string;
  apiKeySalt: string | undefined;
  apiKeysFile: string | undefined;
  completionGraceMs: number;
  abandonAfterMs: number;
  assemblyIntervalMs: number;
  ingestEventsPerMessage: number;
  statsLatenessMs: number;
  statsInstance: string;
  statsMaxLabelSets: number;
  retentionDays: number | undefined;
  logLevel: z.infer<typeof tracingEnvSchema>['LOG_LEVEL'];
}

export const TRACING_CONFIG = Symbol('TRACING_CONFIG');

export function loadTracingConfig(env: Record<string, string | undefined> = process.env): TracingConfig {
  const parsed = tracingEnvSchema.safeParse(env);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid tracing environment: ${detail}`);
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    natsUrl: e.NATS_URL,
    natsNamespace: e.NATS_NAMESPACE || undefined,
    port: e.TRACING_PORT,
    host: e.TRACING_HOST,
    dbSchema: e.TRACING_DB_SCHEMA,
    apiKeySalt: e.TRACING_API_KEY_SALT,
    apiKeysFile: e.TRACING_API_KEYS_FILE,
    completionGraceMs: e.TRACING_COMPLETION_GRACE_MS,
    abandonAfterMs: e.TRACING_ABANDON_AFTER_MS,
    assemblyIntervalMs: e.TRACING_ASSEMBLY_INTERVAL_MS,
    ingestEventsPerMessage: e.TRACING_INGEST_EVENTS_PER_MESSAGE,
    statsLatenessMs: e.TRACING_STATS_LATENESS_MS,
    statsInstance: e.TRACING_STATS_INSTANCE,
    statsMaxLabelSets: e.TRACING_STATS_MAX_LABEL_SETS,
    retentionDays: e.TRACING_RETENTION_DAYS,
    logLevel: e.LOG_LEVEL,
  };
}
