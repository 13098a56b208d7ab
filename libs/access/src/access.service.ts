import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '@arcwatch/runtime';
import {
  AccessError,
  generateSecret,
  generateToken,
  hashSecret,
  roleSchema,
  tenantSchema,
  tokenHint,
  type Principal,
  type Role,
} from './access';
import type { AccessRepository, StoredToken } from './access.repository';

export const newTokenSchema = z.object({
  // PostgreSQL stores no NUL character in text.
  name: z
    .string()
    .min(1)
    .max(200)
    .refine((n) => !n.includes('\u0000'), 'a NUL character (U+0000) cannot be stored'),
  role: roleSchema,
  tenant: tenantSchema.nullish().transform((v) => v ?? null),
});
export type NewTokenInput = z.input<typeof newTokenSchema>;

export interface IssuedToken {
  /** The secret: returned once, never stored. */
  token: string;
  info: StoredToken;
}

export interface Session {
  sessionId: string;
  csrf: string;
  principal: Principal;
  maxAgeSeconds: number;
}

/** How long an authenticated bearer token is trusted without asking the store (AUTH_TOKEN_CACHE_MS). */
export const DEFAULT_TOKEN_CACHE_MS = 5_000;
/** A token's last_used_at is written at most this often. */
export const TOUCH_EVERY_MS = 60_000;
/** Tokens remembered at most (a fleet of pushers shares a few; past this the oldest go). */
const TOKEN_CACHE_ENTRIES = 10_000;

interface TrustedToken {
  principal: Principal;
  until: number;
}

/** Tokens and sessions: issue, authenticate, log in and out. */
export class AccessService {
  /**
   * Bearer tokens authenticated lately, by hash. Without it every request asked the store for its
   * token and wrote its last_used_at: two statements per push, most of the PostgreSQL work of
   * a push that stores 220 samples (docs/access.md). Unknown and revoked tokens are not kept.
   */
  private readonly trusted = new Map<string, TrustedToken>();
  /** When each token's last_used_at was last written by this process. */
  private readonly touched = new Map<string, number>();
  private readonly tokenCacheMs: number;

  constructor(
    private readonly repo: AccessRepository,
    private readonly clock: Clock,
    private readonly sessionTtlMs: number,
    opts: { tokenCacheMs?: number } = {},
  ) {
    this.tokenCacheMs = opts.tokenCacheMs ?? 0;
  }

  /** Validates its input (an HTTP body may be passed as it came). */
  async issue(input: NewTokenInput | Record<string, unknown>): Promise<IssuedToken> {
    const p = newTokenSchema.safeParse(input);
    if (!p.success)
      throw new AccessError(
        'VALIDATION_FAILED',
        p.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      );
    const token = generateToken();
    const info = await this.repo.insertToken({
      id: randomUUID(),
      name: p.data.name,
      tokenHash: hashSecret(token),
      hint: tokenHint(token),
      role: p.data.role,
      tenant: p.data.tenant,
      createdAt: new Date(this.clock.now()),
    });
    return { token, info };
  }

  /**
   * Makes sure `token` (from the environment, e.g. CONSOLE_BOOTSTRAP_ADMIN_TOKEN) is an admin
   * token; idempotent across restarts because the store is keyed by the token's hash.
   */
  async ensureToken(token: string, role: Role, name: string): Promise<StoredToken> {
    if (token.length < 16)
      throw new AccessError('VALIDATION_FAILED', 'a configured token needs at least 16 characters');
    const existing = await this.repo.byHash(hashSecret(token), true);
    if (existing) {
      if (existing.revokedAt !== null)
        throw new AccessError('CONFLICT', `configured token ${existing.hint}… was revoked; configure another`);
      return existing;
    }
    return this.repo.insertToken({
      id: randomUUID(),
      name,
      tokenHash: hashSecret(token),
      hint: tokenHint(token),
      role,
      tenant: null,
      createdAt: new Date(this.clock.now()),
    });
  }

  /** A first admin token when none exists (returned once so the caller can print it), else undefined. */
  async bootstrapAdmin(name = 'bootstrap admin'): Promise<IssuedToken | undefined> {
    if ((await this.repo.countActiveAdmins()) > 0) return undefined;
    return this.issue({ name, role: 'admin', tenant: null });
  }

  async authenticate(token: string): Promise<Principal> {
    const hash = hashSecret(token);
    const now = this.clock.now();
    const known = this.trusted.get(hash);
    if (known && known.until > now) {
      this.touch(known.principal.tokenId, now);
      return known.principal;
    }
    this.trusted.delete(hash);
    const row = await this.repo.byHash(hash);
    if (!row) throw new AccessError('UNAUTHENTICATED', 'unknown or revoked token');
    // shared by every request that comes with this token while it is trusted
    const principal: Principal = Object.freeze({
      tokenId: row.id,
      name: row.name,
      role: row.role,
      tenant: row.tenant,
      via: 'bearer',
    });
    if (this.tokenCacheMs > 0) {
      if (this.trusted.size >= TOKEN_CACHE_ENTRIES) this.trusted.delete(this.trusted.keys().next().value!);
      this.trusted.set(hash, { principal, until: now + this.tokenCacheMs });
    }
    this.touch(row.id, now);
    return principal;
  }

  /** Records the token's use, at most once a minute per token (never awaited, never failing a request). */
  private touch(tokenId: string, now: number): void {
    const last = this.touched.get(tokenId);
    if (last !== undefined && now - last < TOUCH_EVERY_MS && now >= last) return;
    if (this.touched.size >= TOKEN_CACHE_ENTRIES) this.touched.delete(this.touched.keys().next().value!);
    this.touched.set(tokenId, now);
    void this.repo.touch(tokenId, new Date(now)).catch(() => this.touched.delete(tokenId));
  }

  /** Login by token: a new session with its CSRF value. */
  async login(token: string): Promise<Session> {
    const principal = await this.authenticate(token);
    const sessionId = generateSecret(32);
    const csrf = generateSecret(24);
    const now = this.clock.now();
    await this.repo.insertSession({
      sessionHash: hashSecret(sessionId),
      tokenId: principal.tokenId,
      csrfHash: hashSecret(csrf),
      createdAt: new Date(now),
      expiresAt: new Date(now + this.sessionTtlMs),
    });
    return {
      sessionId,
      csrf,
      principal: { ...principal, via: 'session' },
      maxAgeSeconds: Math.floor(this.sessionTtlMs / 1000),
    };
  }

  /** The principal of a live session and the CSRF hash bound to it. */
  async session(sessionId: string): Promise<{ principal: Principal; csrfHash: string } | undefined> {
    const s = await this.repo.session(hashSecret(sessionId), new Date(this.clock.now()));
    if (!s) return undefined;
    const token = await this.repo.byId(s.tokenId);
    if (!token) return undefined;
    return {
      principal: { tokenId: token.id, name: token.name, role: token.role, tenant: token.tenant, via: 'session' },
      csrfHash: s.csrfHash,
    };
  }

  async logout(sessionId: string): Promise<void> {
    await this.repo.deleteSession(hashSecret(sessionId));
  }

  list(): Promise<StoredToken[]> {
    return this.repo.list();
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.repo.revoke(id, new Date(this.clock.now()))))
      throw new AccessError('TOKEN_NOT_FOUND', `no active token ${id}`);
    // refused here at once; other processes stop trusting it within their token cache time
    for (const [hash, t] of this.trusted) if (t.principal.tokenId === id) this.trusted.delete(hash);
  }
}
