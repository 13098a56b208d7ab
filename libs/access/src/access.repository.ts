import { and, asc, eq, gt, isNull, lte } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { Pool } from 'pg';
import { accessTables, type AccessTables } from './access.schema';
import type { Role } from './access';

export interface StoredToken {
  id: string;
  name: string;
  hint: string;
  role: Role;
  tenant: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface NewToken {
  id: string;
  name: string;
  tokenHash: string;
  hint: string;
  role: Role;
  tenant: string | null;
  createdAt: Date;
}

/** The only place with SQL for tokens and sessions (schema `access` unless told otherwise). */
export class AccessRepository {
  private readonly db: NodePgDatabase;
  private readonly t: AccessTables;

  constructor(pool: Pool, schema: string) {
    this.db = drizzle(pool);
    this.t = accessTables(schema);
  }

  /** Inserts the token unless one with the same hash exists; returns the stored one either way. */
  async insertToken(token: NewToken): Promise<StoredToken> {
    await this.db.insert(this.t.tokens).values(token).onConflictDoNothing({ target: this.t.tokens.tokenHash });
    const row = await this.byHash(token.tokenHash, true);
    if (!row) throw new Error('token vanished after insert');
    return row;
  }

  async byHash(tokenHash: string, includeRevoked = false): Promise<StoredToken | undefined> {
    const where = includeRevoked
      ? eq(this.t.tokens.tokenHash, tokenHash)
      : and(eq(this.t.tokens.tokenHash, tokenHash), isNull(this.t.tokens.revokedAt));
    const rows = await this.db.select().from(this.t.tokens).where(where).limit(1);
    return rows[0] ? toStored(rows[0]) : undefined;
  }

  async byId(id: string): Promise<StoredToken | undefined> {
    const rows = await this.db
      .select()
      .from(this.t.tokens)
      .where(and(eq(this.t.tokens.id, id), isNull(this.t.tokens.revokedAt)))
      .limit(1);
    return rows[0] ? toStored(rows[0]) : undefined;
  }

  async list(): Promise<StoredToken[]> {
    const rows = await this.db
      .select()
      .from(this.t.tokens)
      .orderBy(asc(this.t.tokens.createdAt), asc(this.t.tokens.id));
    return rows.map(toStored);
  }

  async countActiveAdmins(): Promise<number> {
    const rows = await this.db
      .select({ id: this.t.tokens.id })
      .from(this.t.tokens)
      .where(and(eq(this.t.tokens.role, 'admin'), isNull(this.t.tokens.revokedAt)));
    return rows.length;
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.db.update(this.t.tokens).set({ lastUsedAt: at }).where(eq(this.t.tokens.id, id));
  }

  /** Revokes the token and ends its sessions; false when there was no such active token. */
  async revoke(id: string, at: Date): Promise<boolean> {
    const rows = await this.db
      .update(this.t.tokens)
      .set({ revokedAt: at })
      .where(and(eq(this.t.tokens.id, id), isNull(this.t.tokens.revokedAt)))
      .returning({ id: this.t.tokens.id });
    await this.db.delete(this.t.sessions).where(eq(this.t.sessions.tokenId, id));
    return rows.length > 0;
  }

  async insertSession(s: {
    sessionHash: string;
    tokenId: string;
    csrfHash: string;
    createdAt: Date;
    expiresAt: Date;
  }): Promise<void> {
    await this.db.insert(this.t.sessions).values(s);
  }

  async session(sessionHash: string, now: Date): Promise<{ tokenId: string; csrfHash: string } | undefined> {
    const rows = await this.db
      .select({ tokenId: this.t.sessions.tokenId, csrfHash: this.t.sessions.csrfHash })
      .from(this.t.sessions)
      .where(and(eq(this.t.sessions.sessionHash, sessionHash), gt(this.t.sessions.expiresAt, now)))
      .limit(1);
    return rows[0];
  }

  async deleteSession(sessionHash: string): Promise<void> {
    await this.db.delete(this.t.sessions).where(eq(this.t.sessions.sessionHash, sessionHash));
  }

  async deleteExpiredSessions(now: Date): Promise<number> {
    const rows = await this.db
      .delete(this.t.sessions)
      .where(lte(this.t.sessions.expiresAt, now))
      .returning({ h: this.t.sessions.sessionHash });
    return rows.length;
  }
}

function toStored(r: AccessTables['tokens']['$inferSelect']): StoredToken {
  return {
    id: r.id,
    name: r.name,
    hint: r.hint,
    role: r.role as Role,
    tenant: r.tenant,
    createdAt: r.createdAt,
    lastUsedAt: r.lastUsedAt,
    revokedAt: r.revokedAt,
  };
}
