import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  createTestDatabase,
  eventually,
  freePort,
  startPeer,
  TEST_NATS_URL,
  TEST_PG_URL,
  testNamespace,
  type RunningProcess,
  type TestDatabase,
} from '@arcwatch/testing';
import { createLogger } from './logger';
import { createServiceApp } from './bootstrap';
import { RuntimeModule } from './runtime.module';
import { PG_POOL } from './tokens';
import type { Pool } from 'pg';

@Module({})
class EmptyModule {}

/** A TCP proxy to PostgreSQL that the test can cut, as a network partition would. */
async function startProxy(target: URL): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function app(databaseUrl: string, natsUrl: string, schema = 'probe'): Promise<NestFastifyApplication> {
  const logger = createLogger('readiness-test', 'silent');
  const module = {
    module: EmptyModule,
    imports: [
      RuntimeModule.forRoot({
        service: 'readiness-test',
        logger,
        postgres: {
          url: databaseUrl,
          schema,
          migrations: [{ id: '0001_probe', up: ({ schema: s }) => `CREATE TABLE ${s}.probe (id int PRIMARY KEY)` }],
        },
        nats: { url: natsUrl, namespace: testNamespace(), streams: [] },
      }),
    ],
  };
  const a = await createServiceApp({ logger, module });
  await a.init();
  return a;
}

const get = async (a: NestFastifyApplication, url: string) => {
  const res = await a.getHttpAdapter().getInstance().inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
};

describe('readiness (/readyz) against real dependencies', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('starts replicas of a service together on an empty database: one creates the schema, all come up', async () => {
    // Replicas of a scaled service start at the same moment against a database none has seen;
    // creating the schema outside the migration lock made some fail with 23505 on pg_namespace.
    const fresh = await createTestDatabase();
    const apps: NestFastifyApplication[] = [];
    try {
      const started = await Promise.allSettled(
        Array.from({ length: 6 }, () => app(fresh.url, TEST_NATS_URL, 'together')),
      );
      for (const r of started) if (r.status === 'fulfilled') apps.push(r.value);
      expect(started.map((r) => (r.status === 'rejected' ? String(r.reason) : 'up'))).toEqual(Array(6).fill('up'));
      const { rows } = await apps[0]
        .get<Pool>(PG_POOL)
        .query<{ id: string }>('SELECT id FROM together.schema_migrations');
      expect(rows).toEqual([{ id: '0001_probe' }]);
    } finally {
      for (const a of apps) await a.close().catch(() => undefined);
      await fresh.drop();
    }
  });

  it('answers 503 naming postgres when PostgreSQL can no longer be reached, 200 before', async () => {
    const proxy = await startProxy(new URL(TEST_PG_URL));
    const url = new URL(db.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const a = await app(url.toString(), TEST_NATS_URL);
    try {
      expect(await get(a, '/readyz')).toMatchObject({
        status: 200,
        body: { status: 'ok', info: { postgres: { status: 'up' }, nats: { status: 'up' } } },
      });
      proxy.cut();
      const down = await get(a, '/readyz');
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({
        status: 'error',
        error: { postgres: { status: 'down' } },
        info: { nats: { status: 'up' } },
      });
      expect(await get(a, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    } finally {
      await a.close().catch(() => undefined);
      await proxy.close();
    }
  });

  it('answers 503 naming nats while the NATS server is gone, and 200 again once it is back', async () => {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'aw-nats-'));
    const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir];
    let nats: RunningProcess = startPeer('nats-server', args);
    await eventually(
      () =>
        new Promise<true | undefined>((resolve) =>
          net
            .connect(port, '127.0.0.1')
            .on('connect', function (this: net.Socket) {
              this.destroy();
              resolve(true);
            })
            .on('error', () => resolve(undefined)),
        ),
      10_000,
      'nats-server up',
    );
    const a = await app(db.url, `nats://127.0.0.1:${port}`);
    try {
      expect((await get(a, '/readyz')).status).toBe(200);
      await nats.stop('SIGKILL');
      const down = await eventually(
        async () => {
          const r = await get(a, '/readyz');
          return r.status === 503 ? r : undefined;
        },
        10_000,
        'readyz 503',
      );
      expect(down.body).toMatchObject({
        error: { nats: { status: 'down', message: 'not connected' } },
        info: { postgres: { status: 'up' } },
      });
      nats = startPeer('nats-server', args);
      await eventually(
        async () => ((await get(a, '/readyz')).status === 200 ? true : undefined),
        20_000,
        'readyz 200 after reconnect',
      );
    } finally {
      await a.close().catch(() => undefined);
      await nats.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
