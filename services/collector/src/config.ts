import { z } from 'zod';
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

export const COLLECTOR_ROLES = ['all', 'scraper', 'writer'] as const;
export type CollectorRole = (typeof COLLECTOR_ROLES)[number];

/**
 * The collector's environment, each variable named once. The scrape configuration itself is a
 * YAML file (COLLECTOR_CONFIG), validated by `config/scrape-config.loader.ts`; the rule files
 * (COLLECTOR_RULES) by `@arcwatch/rules`.
 */
export const collectorEnv = {
  ...commonEnv,
  ...httpEnv('COLLECTOR', 9464),
  ...dbSchemaEnv('COLLECTOR', 'collector'),
  /** Every role checks tokens against the store in DATABASE_URL (a scraper opens PostgreSQL for that alone). */
  ...accessEnv,
  /** A remote_write or import request may carry a large scrape history. */
  ...bodyLimitEnv('COLLECTOR', 64 * 1024 * 1024),
  /** Prometheus-style YAML with global, scrape_configs and an arcwatch block; none = push only. */
  scrapeConfigFile: ['COLLECTOR_CONFIG', env.optionalText],
  /** Prometheus rule-group YAML files, comma-separated; their recording rules run where the store is. */
  ruleFiles: ['COLLECTOR_RULES', env.list],
  /** all = scraper + writer in one process; scraper = scrape and accept pushes; writer = project to storage and serve the API. */
  role: ['COLLECTOR_ROLE', z.enum(COLLECTOR_ROLES).default('all')],
  /**
   * What the collector publishes: v2 (packed, the default) or v1 — only while writers older than
   * this release still consume the stream; this release's writer takes both.
   */
  batchFormat: ['COLLECTOR_BATCH_FORMAT', z.enum(['v1', 'v2']).default('v2')],
  /** How many messages the writer stores per transaction at most. */
  writerBatch: ['COLLECTOR_WRITER_BATCH', z.coerce.number().int().min(1).max(1000).default(32)],
  /** Head rows older than this are compacted into per-series chunks. */
  compactAfterMs: [
    'COLLECTOR_COMPACT_AFTER_MS',
    z.coerce
      .number()
      .int()
      .min(0)
      .default(5 * 60_000),
  ],
  compactEveryMs: ['COLLECTOR_COMPACT_EVERY_MS', z.coerce.number().int().min(1_000).default(60_000)],
  /** Chunk partitions (days) older than this are dropped. */
  retentionDays: ['COLLECTOR_RETENTION_DAYS', z.coerce.number().int().min(1).default(15)],
  /** Store-wide cardinality guard: a batch that would grow the catalog past this is dead-lettered alone. */
  maxSeries: ['COLLECTOR_MAX_SERIES', z.coerce.number().int().min(1).default(1_000_000)],
} as const satisfies EnvSpec;

export type CollectorConfig = ConfigOf<typeof collectorEnv>;

/** The parsed CollectorConfig, for providers that need a setting. */
export const COLLECTOR_CONFIG = Symbol('COLLECTOR_CONFIG');

/** Parsed once at boot; no other file of the collector reads process.env. */
export function loadCollectorConfig(source: Record<string, string | undefined> = process.env): CollectorConfig {
  return parseEnv(collectorEnv, source);
}
