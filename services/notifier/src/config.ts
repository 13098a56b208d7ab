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

/**
 * The notifier's environment. The port defaults to Alertmanager's 9093 so that Prometheus's
 * `alerting.alertmanagers` and amtool point at ArcWatch unchanged. Routing is an Alertmanager
 * file (NOTIFIER_CONFIG) with an optional `arcwatch:` block, or a separate ArcWatch file.
 */
export const notifierEnv = {
  ...commonEnv,
  ...httpEnv('NOTIFIER', 9093),
  ...dbSchemaEnv('NOTIFIER', 'notifier'),
  ...accessEnv,
  ...bodyLimitEnv('NOTIFIER', 8 * 1024 * 1024),
  redisUrl: ['REDIS_URL', z.string().min(1).default('redis://127.0.0.1:6379')],
  /** BullMQ key prefix; tests use their own. */
  redisPrefix: [
    'NOTIFIER_REDIS_PREFIX',
    z
      .string()
      .regex(/^[A-Za-z0-9_:-]+$/)
      .default('aw-notifier'),
  ],
  configFile: ['NOTIFIER_CONFIG', env.optionalText],
  arcwatchFile: ['NOTIFIER_ARCWATCH_CONFIG', env.optionalText],
  /** Links in messages point here (Alertmanager's --web.external-url). */
  externalUrl: ['NOTIFIER_EXTERNAL_URL', z.string().url().default('http://127.0.0.1:9093')],
  /** all: API, dispatcher and escalation worker in one process; api / worker split them. */
  role: ['NOTIFIER_ROLE', z.enum(['all', 'api', 'worker']).default('all')],
  webhookSecret: ['NOTIFIER_WEBHOOK_SECRET', env.optionalText],
  tickMs: ['NOTIFIER_TICK_MS', z.coerce.number().int().min(10).default(500)],
  retryMaxAttempts: ['NOTIFIER_RETRY_MAX_ATTEMPTS', z.coerce.number().int().min(1).default(6)],
  retryBaseMs: ['NOTIFIER_RETRY_BASE_MS', z.coerce.number().int().min(1).default(1000)],
  retryMaxMs: ['NOTIFIER_RETRY_MAX_MS', z.coerce.number().int().min(1).default(60_000)],
  httpTimeoutMs: ['NOTIFIER_HTTP_TIMEOUT_MS', z.coerce.number().int().min(100).default(10_000)],
  /** How often the reconciler compares escalation state in PostgreSQL with the timers in Redis. */
  reconcileIntervalMs: ['NOTIFIER_RECONCILE_INTERVAL_MS', z.coerce.number().int().min(100).default(2_000)],
  consumeAlerts: ['NOTIFIER_CONSUME_ALERTS', env.bool],
  /** How long to wait for tracing's and billing's context answers (in the background; 0 turns it off). */
  contextTimeoutMs: ['NOTIFIER_CONTEXT_TIMEOUT_MS', z.coerce.number().int().min(0).default(500)],
  /** Console link in messages (`<url>/alerts/<fingerprint>`). */
  consoleUrl: ['NOTIFIER_CONSOLE_URL', env.optionalText],
} as const satisfies EnvSpec;

export type NotifierConfig = ConfigOf<typeof notifierEnv>;

export const NOTIFIER_CONFIG = Symbol('NOTIFIER_CONFIG');

export function loadNotifierConfig(source: Record<string, string | undefined> = process.env): NotifierConfig {
  return parseEnv(notifierEnv, source);
}
