/**
 * Helpers for integration tests against the real PostgreSQL, NATS (JetStream) and Redis on
 * 127.0.0.1. Every test file gets its own database and its own NATS namespace, so test files
 * can run side by side and leave nothing behind that another run would trip on.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A short random token, safe in database names, NATS subjects and stream names. */
export function uniqueToken(prefix = 't'): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** A NATS namespace for one test file: streams become `<NS>_AW_…`, subjects `<ns>.aw.…`. */
export function testNamespace(): string {
  return uniqueToken('t');
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates an empty database for one test file; `drop()` removes it (and its connections). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = uniqueToken('aw_test_');
  const admin = new Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new Client({ connectionString: TEST_PG_URL });
      await c.connect();
      try {
        // Pools resolve end() before their connections' backends have read the goodbye; a FORCE
        // drop then terminates those backends, and the client hears 57P01 on a pool that was
        // already ended (an unhandled 'error' in the test file). Give them a moment to go
        // first; FORCE only for what a test leaked.
        const deadline = Date.now() + 3_000;
        for (;;) {
          try {
            await c.query(`DROP DATABASE IF EXISTS ${name}`);
            return;
          } catch (err) {
            if ((err as { code?: string }).code !== '55006' || Date.now() > deadline) break;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Polls `probe` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export * from './auth';
export * from './body-fuzz';
export * from './route-access';
export * from './paths';
export * from './processes';
export * from './test-clock';
export * from './timescale';
export * from './proc-cpu';
