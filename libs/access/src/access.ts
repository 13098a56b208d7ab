import { z } from 'zod';
import { defineErrorCodes } from '@arcwatch/runtime';
import { hashSecret, safeEqual } from './token';

/** Errors of the access layer; UNAUTHENTICATED and FORBIDDEN come from the common codes. */
export const AccessError = defineErrorCodes('AccessError', {
  CSRF_FAILED: { status: 403, disposition: 'dead-letter' },
  TOKEN_NOT_FOUND: { status: 404, disposition: 'ack' },
});
export type AccessError = InstanceType<typeof AccessError>;

/**
 * viewer < operator < admin read and act on what ArcWatch holds, each able to do what the ones
 * before it can. `ingest` stands apart: it may only push (the collector's import and remote_write,
 * tracing's event and OTLP intake) and reads nothing, so a token spread over a fleet of pushers
 * gives away no data. An admin may also push (one token for a small install).
 */
export const ROLES = ['viewer', 'operator', 'admin', 'ingest'] as const;
export type Role = (typeof ROLES)[number];
export const roleSchema = z.enum(ROLES);
const RANKED: readonly Role[] = ['viewer', 'operator', 'admin'];

/** A tenant id as the rest of ArcWatch writes it (request records, cost lines, alert labels). */
export const tenantSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'letters, digits, . _ : - (at most 128)');

/** Who is calling: the token behind the bearer header or the session cookie. */
export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
  /** Set when the token sees one tenant only. */
  tenant: string | null;
  via: 'bearer' | 'session';
}

/** Whether a token of role `have` may call a handler that needs `need`. */
export function roleAllows(have: Role, need: Role): boolean {
  if (need === 'ingest') return have === 'ingest' || have === 'admin';
  if (have === 'ingest') return false;
  return RANKED.indexOf(have) >= RANKED.indexOf(need);
}

// Token helpers live apart, without Nest or zod, so the node agent can bundle them.
export {
  TOKEN_PREFIX,
  bearerToken,
  configuredTokenCheck,
  generateSecret,
  generateToken,
  hashSecret,
  safeEqual,
  tokenHint,
} from './token';
/**
 * The tenant a request may read. An unscoped token reads what it asks for (all tenants when it
 * asks for none); a scoped token reads its own tenant only, and asking for another is refused.
 */
export function effectiveTenant(
  principal: Pick<Principal, 'tenant'>,
  requested: string | undefined | null,
): string | undefined {
  const asked = requested === null || requested === '' ? undefined : requested;
  if (principal.tenant === null) return asked;
  if (asked !== undefined && asked !== principal.tenant) {
    throw new AccessError('FORBIDDEN', `this token may only read tenant ${principal.tenant}`);
  }
  return principal.tenant;
}

/**
 * The query of a list or aggregate route with the tenant filter the principal may use: its own
 * tenant filled in for a scoped token, another tenant refused (403).
 */
export function scopeQuery<Q extends Record<string, unknown>>(
  principal: Pick<Principal, 'tenant'>,
  query: Q,
  key: keyof Q & string = 'tenant',
): Q {
  const raw = query[key];
  const tenant = effectiveTenant(principal, typeof raw === 'string' ? raw : undefined);
  return tenant === undefined ? query : { ...query, [key]: tenant };
}

/** Routes over every tenant at once (configuration, prices, invoices, fleet metrics): unscoped tokens only. */
export function requireUnscoped(principal: Pick<Principal, 'tenant'>, what: string): void {
  if (principal.tenant !== null)
    throw new AccessError('FORBIDDEN', `${what} spans every tenant; this token sees tenant ${principal.tenant} only`);
}

/**
 * One record by id: another tenant's is answered as missing (404), so a scoped token cannot
 * learn which ids exist elsewhere.
 */
export function assertCanSee(
  principal: Pick<Principal, 'tenant'>,
  tenant: string | null | undefined,
  what: string,
): void {
  if (!canSeeTenant(principal, tenant)) throw new AccessError('NOT_FOUND', `${what} not found`);
}

/** Whether a record of `tenant` may be shown to the principal. */
export function canSeeTenant(principal: Pick<Principal, 'tenant'>, tenant: string | null | undefined): boolean {
  return principal.tenant === null || tenant === principal.tenant;
}

// --- cookies -----------------------------------------------------------------------------------

export const SESSION_COOKIE = 'aw_session';
export const CSRF_COOKIE = 'aw_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** Methods that change state: these need the CSRF header when the caller uses the session cookie. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    if (name === '' || name in out) continue;
    try {
      out[name] = decodeURIComponent(raw);
    } catch {
      out[name] = raw;
    }
  }
  return out;
}

export interface CookieOptions {
  httpOnly: boolean;
  maxAgeSeconds: number;
  secure: boolean;
  path?: string;
}

/** A Set-Cookie value; always SameSite=Strict so no other site can send it along. */
export function serializeCookie(name: string, value: string, opts: CookieOptions): string {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${opts.path ?? '/'}`,
    `Max-Age=${Math.max(0, Math.floor(opts.maxAgeSeconds))}`,
    'SameSite=Strict',
  ];
  if (opts.httpOnly) parts.push('HttpOnly');
  if (opts.secure) parts.push('Secure');
  return parts.join('; ');
}

/**
 * The double-submit check: the header must equal the CSRF cookie, and both must equal the value
 * bound to the session at login (so a cookie planted by a sibling host is not enough).
 */
export function csrfValid(
  method: string,
  header: string | undefined,
  cookie: string | undefined,
  sessionCsrfHash: string,
): boolean {
  if (SAFE_METHODS.has(method.toUpperCase())) return true;
  if (!header || !cookie) return false;
  return safeEqual(header, cookie) && safeEqual(hashSecret(header), sessionCsrfHash);
}

/** The Set-Cookie values of a new session: the id HTTP-only, the CSRF value readable by the page. */
export function sessionCookies(
  s: { sessionId: string; csrf: string; maxAgeSeconds: number },
  secure: boolean,
): string[] {
  return [
    serializeCookie(SESSION_COOKIE, s.sessionId, { httpOnly: true, maxAgeSeconds: s.maxAgeSeconds, secure }),
    serializeCookie(CSRF_COOKIE, s.csrf, { httpOnly: false, maxAgeSeconds: s.maxAgeSeconds, secure }),
  ];
}

export function clearedSessionCookies(secure: boolean): string[] {
  return [
    serializeCookie(SESSION_COOKIE, '', { httpOnly: true, maxAgeSeconds: 0, secure }),
    serializeCookie(CSRF_COOKIE, '', { httpOnly: false, maxAgeSeconds: 0, secure }),
  ];
}
