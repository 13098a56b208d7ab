/**
 * The TimescaleDB side of the integration tests. CI and the shared machines run plain PostgreSQL
 * 15; TEST_TIMESCALE_URL points at a PostgreSQL 15 with the extension preloaded
 * (tools/timescaledb-test-cluster.sh). Without it the specs that need the extension are skipped,
 * and the skipped block's title says why.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { TestDatabase } from './index';

export const TEST_TIMESCALE_URL = process.env.TEST_TIMESCALE_URL;

export const TIMESCALE_SKIP_REASON =
  'skipped: TEST_TIMESCALE_URL is not set (a PostgreSQL 15 with TimescaleDB; docs/storage.md, "Testing on TimescaleDB")';

/** `describe` where TEST_TIMESCALE_URL is set; otherwise a skipped block whose title gives the reason. */
export function describeTimescale(name: string, fn: () => void): void {
  if (TEST_TIMESCALE_URL) return describe(name, fn);
  // jest lists nothing of a file whose tests are all skipped: say why once, in the run's output
  console.warn(`${name}: ${TIMESCALE_SKIP_REASON}`);
  describe.skip(`${name} [${TIMESCALE_SKIP_REASON}]`, fn);
}

async function admin<T>(run: (c: Client) => Promise<T>, url = TEST_TIMESCALE_URL): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await run(c);
  } finally {
    await c.end();
  }
}

/**
 * An empty database on the TimescaleDB server, with the extension created in it unless
 * `extension: false` (a database that gets the extension later: `installTimescale`).
 */
export async function createTimescaleTestDatabase(opts: { extension?: boolean } = {}): Promise<TestDatabase> {
  if (!TEST_TIMESCALE_URL) throw new Error(TIMESCALE_SKIP_REASON);
  const name = `aw_ts_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  // template0: the server's template1 may carry the extension already
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE template0`));
  const url = new URL(TEST_TIMESCALE_URL);
  url.pathname = `/${name}`;
  if (opts.extension !== false) await installTimescale(url.toString());
  return {
    url: url.toString(),
    name,
    async drop() {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** CREATE EXTENSION timescaledb in the database at `url`. */
export async function installTimescale(url: string): Promise<void> {
  await admin((c) => c.query('CREATE EXTENSION IF NOT EXISTS timescaledb'), url);
}
