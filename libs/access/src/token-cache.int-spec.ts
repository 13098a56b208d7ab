import { ManualClock } from '@arcwatch/runtime';
import { createPool, migrate } from '@arcwatch/storage';
import { createTestDatabase, type TestDatabase } from '@arcwatch/testing';
import type { Pool } from 'pg';
import { AccessError } from './access';
import { accessMigrations } from './access.migrations';
import { AccessRepository, type StoredToken } from './access.repository';
import { AccessService, TOUCH_EVERY_MS } from './access.service';

const SCHEMA = 'access_cache';

/** The real repository, counting what the service asks of it. */
class CountingRepository extends AccessRepository {
  lookups = 0;
  touches = 0;
  override byHash(tokenHash: string, includeRevoked = false): Promise<StoredToken | undefined> {
    this.lookups++;
    return super.byHash(tokenHash, includeRevoked);
  }
  override touch(id: string, at: Date): Promise<void> {
    this.touches++;
    return super.touch(id, at);
  }
}

let db: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, { max: 4 });
  await migrate(pool, { schema: SCHEMA, migrations: accessMigrations });
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

function service(clock: ManualClock, tokenCacheMs: number) {
  const repo = new CountingRepository(pool, SCHEMA);
  return { repo, access: new AccessService(repo, clock, 60_000, { tokenCacheMs }) };
}

const lastUsed = async (id: string) =>
  (await pool.query<{ t: Date | null }>(`SELECT last_used_at AS t FROM ${SCHEMA}.tokens WHERE id = $1`, [id])).rows[0]!
    .t;

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('bearer tokens trusted for a while (AUTH_TOKEN_CACHE_MS)', () => {
  it('asks the store once per token and cache time, not once per request', async () => {
    const clock = new ManualClock(Date.parse('2026-12-04T10:00:00Z'));
    const { repo, access } = service(clock, 5_000);
    const issued = await access.issue({ name: 'pusher', role: 'ingest', tenant: null });
    const before = repo.lookups; // issuing reads the stored row back
    for (let i = 0; i < 50; i++) expect((await access.authenticate(issued.token)).role).toBe('ingest');
    expect(repo.lookups - before).toBe(1);
    await clock.advance(5_000);
    await access.authenticate(issued.token);
    expect(repo.lookups - before).toBe(2);
  });

  it('honours a revocation made by another process once its cache time has passed', async () => {
    const clock = new ManualClock(Date.parse('2026-12-04T11:00:00Z'));
    const here = service(clock, 5_000);
    const elsewhere = service(clock, 5_000);
    const issued = await here.access.issue({ name: 'to revoke', role: 'viewer', tenant: 'acme' });
    expect(await here.access.authenticate(issued.token)).toMatchObject({ role: 'viewer', tenant: 'acme' });
    await elsewhere.access.revoke(issued.info.id);
    // the other process refuses it at once; this one still trusts it, for at most its cache time
    await expect(elsewhere.access.authenticate(issued.token)).rejects.toThrow(AccessError);
    await clock.advance(4_999);
    expect((await here.access.authenticate(issued.token)).tokenId).toBe(issued.info.id);
    await clock.advance(1);
    await expect(here.access.authenticate(issued.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuses a token revoked through the same process at once, and never keeps an unknown one', async () => {
    const clock = new ManualClock(Date.parse('2026-12-04T12:00:00Z'));
    const { repo, access } = service(clock, 60_000);
    const issued = await access.issue({ name: 'short-lived', role: 'admin', tenant: null });
    await access.authenticate(issued.token);
    await access.revoke(issued.info.id);
    await expect(access.authenticate(issued.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const before = repo.lookups;
    await expect(access.authenticate('aw_unknown-token-0000000000')).rejects.toThrow(AccessError);
    await expect(access.authenticate('aw_unknown-token-0000000000')).rejects.toThrow(AccessError);
    expect(repo.lookups - before).toBe(2);
  });

  it('with a cache time of 0 asks the store on every request', async () => {
    const clock = new ManualClock(Date.parse('2026-12-04T13:00:00Z'));
    const { repo, access } = service(clock, 0);
    const issued = await access.issue({ name: 'uncached', role: 'viewer', tenant: null });
    const before = repo.lookups;
    for (let i = 0; i < 3; i++) await access.authenticate(issued.token);
    expect(repo.lookups - before).toBe(3);
  });

  it('writes last_used_at once a minute per token, not per request', async () => {
    const start = Date.parse('2026-12-04T14:00:00Z');
    const clock = new ManualClock(start);
    const { repo, access } = service(clock, 5_000);
    const issued = await access.issue({ name: 'busy', role: 'ingest', tenant: null });
    for (let i = 0; i < 20; i++) {
      await access.authenticate(issued.token);
      await clock.advance(2_000); // 40 s of requests, every 2 s
    }
    expect(repo.touches).toBe(1);
    expect(
      (
        await until(
          () => lastUsed(issued.info.id),
          (t) => t !== null,
        )
      )?.getTime(),
    ).toBe(start);
    await clock.advance(TOUCH_EVERY_MS - 40_000);
    await access.authenticate(issued.token);
    expect(repo.touches).toBe(2);
    expect(
      (
        await until(
          () => lastUsed(issued.info.id),
          (t) => t?.getTime() !== start,
        )
      )?.getTime(),
    ).toBe(start + TOUCH_EVERY_MS);
  });
});
