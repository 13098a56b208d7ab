import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { env, ServiceError, type ConfigOf, type EnvSpec } from '@arcwatch/runtime';
import type { Role } from './access';
import { DEFAULT_ACCESS_SCHEMA, type AccessModuleOptions, type EnsuredToken } from './access.module';

/**
 * What every service that checks tokens reads (docs/access.md). Each secret comes from its
 * variable or from a file named by `<VARIABLE>_FILE` (a mounted Kubernetes secret), never both.
 */
export const accessEnv = {
  /** Schema of the token store; every service on one database shares it, so one token works everywhere. */
  accessSchema: [
    'ACCESS_DB_SCHEMA',
    z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/)
      .default(DEFAULT_ACCESS_SCHEMA),
  ],
  /** An admin token (at least 16 characters) made valid at every start; stored as its hash only. */
  bootstrapToken: ['AUTH_BOOTSTRAP_TOKEN', env.optionalText],
  bootstrapTokenFile: ['AUTH_BOOTSTRAP_TOKEN_FILE', env.optionalText],
  /** A push-only token made valid at every start, for pushers (Prometheus remote_write, gateways, agents). */
  ingestToken: ['AUTH_INGEST_TOKEN', env.optionalText],
  ingestTokenFile: ['AUTH_INGEST_TOKEN_FILE', env.optionalText],
  /**
   * How long a process trusts a bearer token it authenticated without asking the store again
   * (default 5 s; 0 asks on every request). A token revoked elsewhere is refused here after at
   * most this long; one revoked through this process is refused at once.
   */
  tokenCacheMs: ['AUTH_TOKEN_CACHE_MS', z.coerce.number().int().min(0).max(300_000).default(5_000)],
} as const satisfies EnvSpec;
export type AccessConfig = ConfigOf<typeof accessEnv>;

/** For services that call another ArcWatch API: the token they send (the bootstrap token when unset). */
export const accessClientEnv = {
  clientToken: ['AUTH_CLIENT_TOKEN', env.optionalText],
  clientTokenFile: ['AUTH_CLIENT_TOKEN_FILE', env.optionalText],
} as const satisfies EnvSpec;
export type AccessClientConfig = ConfigOf<typeof accessClientEnv>;

/** A secret given directly or as a file (its trailing newline dropped); both at once is an error. */
export function readSecret(value: string | undefined, file: string | undefined, variable: string): string | undefined {
  if (value !== undefined && file !== undefined)
    throw new ServiceError('CONFIG_INVALID', `${variable} and ${variable}_FILE are both set; set one`);
  if (file === undefined) return value;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ServiceError('CONFIG_INVALID', `${variable}_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') throw new ServiceError('CONFIG_INVALID', `${variable}_FILE: ${file} is empty`);
  return secret;
}

/** The AccessModule options of a service: its token store and the configured tokens ensured at start. */
export function accessOptions(
  config: AccessConfig,
  extra: Omit<AccessModuleOptions, 'schema'> = {},
): AccessModuleOptions {
  const ensure: EnsuredToken[] = [...(extra.ensureTokens ?? [])];
  const add = (token: string | undefined, role: Role, name: string) => {
    if (token !== undefined) ensure.push({ token, role, name });
  };
  add(
    readSecret(config.bootstrapToken, config.bootstrapTokenFile, 'AUTH_BOOTSTRAP_TOKEN'),
    'admin',
    'bootstrap admin (AUTH_BOOTSTRAP_TOKEN)',
  );
  add(
    readSecret(config.ingestToken, config.ingestTokenFile, 'AUTH_INGEST_TOKEN'),
    'ingest',
    'ingest (AUTH_INGEST_TOKEN)',
  );
  return { ...extra, schema: config.accessSchema, ensureTokens: ensure, tokenCacheMs: config.tokenCacheMs };
}

/** The bearer token a service sends to other ArcWatch APIs: AUTH_CLIENT_TOKEN, else AUTH_BOOTSTRAP_TOKEN. */
export function clientToken(config: AccessClientConfig & Partial<AccessConfig>): string | undefined {
  return (
    readSecret(config.clientToken, config.clientTokenFile, 'AUTH_CLIENT_TOKEN') ??
    readSecret(config.bootstrapToken, config.bootstrapTokenFile, 'AUTH_BOOTSTRAP_TOKEN')
  );
}

/** `Authorization: Bearer <token>` when there is a token, nothing otherwise. */
export function bearerHeaders(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}
