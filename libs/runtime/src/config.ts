import { z } from 'zod';
import { ServiceError } from './errors';

/**
 * A service's environment as one declaration: each config key names its variable and its zod
 * schema once, and the config's type is inferred from that declaration. Parsed once at boot
 * (`parseEnv`); libs receive their settings from the service, never from process.env.
 *
 *   export const billingEnv = {
 *     ...commonEnv,
 *     ...httpEnv('BILLING', 8084),
 *     windowSeconds: ['BILLING_WINDOW_SECONDS', z.coerce.number().int().min(1).default(60)],
 *   } satisfies EnvSpec;
 *   export type BillingConfig = ConfigOf<typeof billingEnv>;
 */
export type EnvSpec = Record<string, readonly [variable: string, schema: z.ZodType]>;
export type ConfigOf<S extends EnvSpec> = { readonly [K in keyof S]: z.output<S[K][1]> };

/** An empty string means "not set", as in a compose file that leaves a variable blank. */
const optionalText = z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional());

/**
 * The service's NATS user (infra/nats: each service has its own, allowed to publish only its own
 * subjects). The password comes from NATS_PASSWORD or, for mounted secrets, from the file
 * NATS_PASSWORD_FILE names; neither is ever logged. Without a user the connection is anonymous.
 */
export const natsAuthEnv = {
  natsUser: ['NATS_USER', optionalText],
  natsPassword: ['NATS_PASSWORD', optionalText],
  natsPasswordFile: ['NATS_PASSWORD_FILE', optionalText],
} as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What every service reads: connections and the log level. */
export const commonEnv = {
  databaseUrl: ['DATABASE_URL', z.string().min(1).default('postgres://postgres@127.0.0.1:5432/postgres')],
  natsUrl: ['NATS_URL', z.string().min(1).default('nats://127.0.0.1:4222')],
  /** Prefix for streams and subjects, so tests (or tenants of one NATS) stay apart. */
  natsNamespace: [
    'NATS_NAMESPACE',
    z.preprocess(
      (v) => (v === '' ? undefined : v),
      z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/)
        .optional(),
    ),
  ],
  logLevel: ['LOG_LEVEL', z.enum(LOG_LEVELS).default('info')],
  /** JetStream replicas of the streams a service creates: 1 on one NATS server, 3 on a three-node cluster. */
  natsStreamReplicas: ['NATS_STREAM_REPLICAS', z.coerce.number().int().min(1).max(5).default(1)],
  ...natsAuthEnv,
} as const satisfies EnvSpec;

/** `<PREFIX>_PORT` and `<PREFIX>_HOST` for a service's HTTP listener. */
export function httpEnv<P extends string>(prefix: P, defaultPort: number) {
  return {
    port: [`${prefix}_PORT`, z.coerce.number().int().min(0).max(65535).default(defaultPort)],
    host: [`${prefix}_HOST`, z.string().min(1).default('0.0.0.0')],
  } as const satisfies EnvSpec;
}

/**
 * `<PREFIX>_BODY_LIMIT_BYTES`: the largest request body the service's HTTP API accepts; a larger
 * one is answered 413 before any of it is parsed.
 */
export function bodyLimitEnv<P extends string>(prefix: P, defaultBytes: number) {
  return {
    bodyLimitBytes: [
      `${prefix}_BODY_LIMIT_BYTES`,
      z.coerce
        .number()
        .int()
        .min(1024)
        .max(1024 * 1024 * 1024)
        .default(defaultBytes),
    ],
  } as const satisfies EnvSpec;
}

/** `<PREFIX>_DB_SCHEMA`: the Postgres schema that holds the service's tables. */
export function dbSchemaEnv<P extends string>(prefix: P, defaultSchema: string) {
  return {
    dbSchema: [
      `${prefix}_DB_SCHEMA`,
      z
        .string()
        .regex(/^[a-z_][a-z0-9_]*$/)
        .default(defaultSchema),
    ],
  } as const satisfies EnvSpec;
}

export const env = {
  optionalText,
  /** A comma-separated list; blanks dropped. */
  list: z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '')
        : (v ?? []),
    z.array(z.string()),
  ),
  bool: z.preprocess(
    (v) => (v === undefined || v === '' ? undefined : ['1', 'true', 'yes', 'on'].includes(String(v).toLowerCase())),
    z.boolean().optional(),
  ),
} as const;

/** Reads the declared variables; every problem is reported at once with its variable name. */
export function parseEnv<S extends EnvSpec>(
  spec: S,
  source: Record<string, string | undefined> = process.env,
): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, [variable, schema]] of Object.entries(spec)) {
    const r = schema.safeParse(source[variable]);
    if (r.success) out[key] = r.data;
    else problems.push(`${variable}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length > 0) throw new ServiceError('CONFIG_INVALID', `invalid environment: ${problems.join('; ')}`);
  return Object.freeze(out) as ConfigOf<S>;
}

/** The variables a spec reads, for docs and `--help`. */
export function envVariables(spec: EnvSpec): string[] {
  return Object.values(spec).map(([v]) => v);
}
