import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Tokens without the token store: the secret's shape, its hash, reading it from an Authorization
 * header, and a check against tokens given in configuration. Nothing here loads NestJS, zod or
 * the PostgreSQL driver, so the node agent bundles it (docs/decisions/0006-agent-runtime.md).
 */

/** Tokens start with a fixed prefix so secret scanners and people recognise them. */
export const TOKEN_PREFIX = 'aw_';

/** A configured token must be at least this long (the store refuses shorter ones too). */
export const MIN_CONFIGURED_TOKEN_LENGTH = 16;

export function generateSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function generateToken(): string {
  return `${TOKEN_PREFIX}${generateSecret(32)}`;
}

/** What is stored for a token or a session id: the secret itself never is. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** The first characters of a token, enough to tell tokens apart in a list without revealing them. */
export function tokenHint(token: string): string {
  return token.slice(0, TOKEN_PREFIX.length + 4);
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `Bearer <token>`, or Basic with the token as the password (the user name is ignored). */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (m) return m[1];
  const b = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!b) return undefined;
  const decoded = Buffer.from(b[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  return password === '' ? undefined : password;
}

export type TokenCheckResult = { ok: true } | { ok: false; code: 'UNAUTHENTICATED'; message: string };

/**
 * A check of the Authorization header against tokens given in configuration, for a process
 * without a token store. Only their hashes are kept, and hashes are compared in constant time,
 * so neither the time taken nor a heap dump gives a token away.
 */
export function configuredTokenCheck(
  tokens: readonly string[],
): (authorization: string | undefined) => TokenCheckResult {
  const hashes = tokens.map(hashSecret);
  return (authorization) => {
    if (authorization === undefined || authorization === '')
      return { ok: false, code: 'UNAUTHENTICATED', message: 'send Authorization: Bearer <token>' };
    const token = bearerToken(authorization);
    if (token === undefined)
      return {
        ok: false,
        code: 'UNAUTHENTICATED',
        message: 'Authorization must be "Bearer <token>" (or Basic with the token as password)',
      };
    const h = hashSecret(token);
    // Every hash is compared, so the time does not tell which one (if any) matched.
    let match = false;
    for (const known of hashes) match = safeEqual(h, known) || match;
    return match ? { ok: true } : { ok: false, code: 'UNAUTHENTICATED', message: 'unknown or revoked token' };
  };
}
