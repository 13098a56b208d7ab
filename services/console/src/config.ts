import { z } from 'zod';
import { accessClientEnv } from '@arcwatch/access';
import { commonEnv, dbSchemaEnv, env, httpEnv, parseEnv, type ConfigOf, type EnvSpec } from '@arcwatch/runtime';

const url = (fallback: string) => z.preprocess((v) => (v === '' || v === undefined ? fallback : v), z.url());

/**
 * The console's environment. The console reads the other services over HTTP (their public APIs);
 * each base URL is configurable and each call has a short timeout, so one service that is away
 * shows as such on its page and never holds up the others.
 */
export const consoleEnv = {
  ...commonEnv,
  ...httpEnv('CONSOLE', 8080),
  ...dbSchemaEnv('CONSOLE', 'console'),
  /** The token the console sends to the other services (AUTH_CLIENT_TOKEN; the bootstrap admin token when unset). */
  ...accessClientEnv,
  /** Schema of the token store shared by every service that checks tokens. */
  accessSchema: [
    'ACCESS_DB_SCHEMA',
    z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/)
      .default('access'),
  ],
  collectorUrl: ['CONSOLE_COLLECTOR_URL', url('http://127.0.0.1:9464')],
  tracingUrl: ['CONSOLE_TRACING_URL', url('http://127.0.0.1:8082')],
  billingUrl: ['CONSOLE_BILLING_URL', url('http://127.0.0.1:8083')],
  anomalyUrl: ['CONSOLE_ANOMALY_URL', url('http://127.0.0.1:8084')],
  notifierUrl: ['CONSOLE_NOTIFIER_URL', url('http://127.0.0.1:9093')],
  /** How often the live stream (GET /api/console/events) asks for the fleet and alerts while someone listens. */
  eventsIntervalMs: ['CONSOLE_EVENTS_INTERVAL_MS', z.coerce.number().int().min(200).max(300_000).default(5_000)],
  /** Per call to another service; past it the service counts as down for that page. */
  upstreamTimeoutMs: ['CONSOLE_UPSTREAM_TIMEOUT_MS', z.coerce.number().int().min(50).max(60_000).default(3_000)],
  /**
   * A first admin token (at least 16 characters) made valid at start. Unset: when no admin token
   * exists yet, one is created and printed once on stdout.
   */
  bootstrapAdminToken: ['CONSOLE_BOOTSTRAP_ADMIN_TOKEN', env.optionalText],
  sessionTtlHours: [
    'CONSOLE_SESSION_TTL_HOURS',
    z.coerce
      .number()
      .min(0.01)
      .max(24 * 30)
      .default(12),
  ],
  /** Secure cookies need HTTPS; set when the console is served behind TLS. */
  secureCookies: ['CONSOLE_SECURE_COOKIES', env.bool],
  /** The built single-page app; the default is where `vite build` writes it. */
  webDir: ['CONSOLE_WEB_DIR', env.optionalText],
} as const satisfies EnvSpec;

export type ConsoleConfig = ConfigOf<typeof consoleEnv>;

export const CONSOLE_CONFIG = Symbol('CONSOLE_CONFIG');

export function loadConsoleConfig(source: Record<string, string | undefined> = process.env): ConsoleConfig {
  return parseEnv(consoleEnv, source);
}
