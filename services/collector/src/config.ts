import { z } from 'zod';

/**
 * The collector's process configuration: connections, port, role. Parsed once at boot; no other
 * file reads process.env. The scrape configuration itself is a YAML file (COLLECTOR_CONFIG),
 * validated by `config/scrape-config.loader.ts`.
 */
export const collectorEnvSchema = z.object({
  DATABASE_URL: z.string().min(1).default('postgres://postgres@127.0.0.1:5432/postgres'),
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  /** Prefix for streams and subjects, so tests (or tenants of one NATS) stay apart. */
  NATS_NAMESPACE: z.string().regex(/^[A-Za-z0-9_-]*$/).optional(),
  COLLECTOR_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  COLLECTOR_HOST: z.string().min(1).default('0.0.0.0'),
  /** Prometheus-style YAML with global, scrape_configs and an arcwatch block; none = push only. */
  COLLECTOR_CONFIG: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional()),
  /** Prometheus rule-group YAML files, comma-separated; their recording rules run where the store is. */
  COLLECTOR_RULES: z.string().optional(),
  /** all = scraper + writer in one process; scraper = scrape and accept pushes; writer = project to storage and serve the catalog. */
  COLLECTOR_ROLE: z.enum(['all', 'scraper', 'writer']).default('all'),
  /** Postgres schema that holds the collector's tables. */
  COLLECTOR_DB_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('collector'),
  /**
   * What the collector publishes: v2 (packed, the default) or v1 — only while writers older than
   * this release still consume the stream; this release's writer takes both.
   */
  COLLECTOR_BATCH_FORMAT: z.enum(['v1', 'v2']).default('v2'),
  /** How many messages the writer stores per transaction at most. */
  COLLECTOR_WRITER_BATCH: z.coerce.number().int().min(1).max(1000).default(32),
  /** Head rows older than this are compacted into per-series chunks. */
  COLLECTOR_COMPACT_AFTER_MS: z.coerce.number().int().min(0).default(5 * 60_000),
  COLLECTOR_COMPACT_EVERY_MS: z.coerce.number().int().min(1_000).default(60_000),
  /** Chunk partitions (days) older than this are dropped. */
  COLLECTOR_RETENTION_DAYS: z.coerce.number().int().min(1).default(15),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type CollectorRole = z.infer<typeof collectorEnvSchema>['COLLECTOR_ROLE'];

export interface CollectorConfig {
  databaseUrl: string;
  natsUrl: string;
  natsNamespace: string | undefined;
  port: number;
  host: string;
  scrapeConfigFile: string | undefined;
  ruleFiles: string[];
  role: CollectorRole;
  dbSchema: string;
  writerBatch: number;
  batchFormat: 'v1' | 'v2';
  compactAfterMs: number;
  compactEveryMs: number;
  retentionDays: number;
  logLevel: z.infer<typeof collectorEnvSchema>['LOG_LEVEL'];
}

export function loadCollectorConfig(env: Record<string, string | undefined> = process.env): CollectorConfig {
  const parsed = collectorEnvSchema.safeParse(env);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid collector environment: ${detail}`);
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    natsUrl: e.NATS_URL,
    natsNamespace: e.NATS_NAMESPACE || undefined,
    port: e.COLLECTOR_PORT,
    host: e.COLLECTOR_HOST,
    scrapeConfigFile: e.COLLECTOR_CONFIG,
    ruleFiles: (e.COLLECTOR_RULES ?? '').split(',').map((f) => f.trim()).filter((f) => f !== ''),
    role: e.COLLECTOR_ROLE,
    dbSchema: e.COLLECTOR_DB_SCHEMA,
    writerBatch: e.COLLECTOR_WRITER_BATCH,
    batchFormat: e.COLLECTOR_BATCH_FORMAT,
    compactAfterMs: e.COLLECTOR_COMPACT_AFTER_MS,
    compactEveryMs: e.COLLECTOR_COMPACT_EVERY_MS,
    retentionDays: e.COLLECTOR_RETENTION_DAYS,
    logLevel: e.LOG_LEVEL,
  };
}
