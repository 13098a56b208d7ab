/**
 * Test support for the collector's integration specs: a collector app on a free port with its
 * own database and NATS namespace, and a local HTTP server standing in for scrape targets.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SampleStore, createPool } from '@arcwatch/storage';
import { TEST_AUTH_ENV, createTestDatabase, testNamespace, type TestDatabase } from '@arcwatch/testing';
import type { Pool } from 'pg';
import pino from 'pino';
import { createCollectorApp } from '../app';
import { loadCollectorConfig, type CollectorConfig } from '../config';
import { parseScrapeConfig } from '../config/scrape-config.loader';

export interface TargetServer {
  url: string;
  port: number;
  /** path → body (text exposition; OpenMetrics when it ends with # EOF); a missing path answers 404. */
  routes: Map<string, string>;
  close(): Promise<void>;
}

export async function startTargetServer(routes: Record<string, string> = {}): Promise<TargetServer> {
  const map = new Map(Object.entries(routes));
  const server: Server = createServer((req, res) => {
    const body = map.get((req.url ?? '/').split('?')[0]);
    if (body === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    const openMetrics = /(^|\n)# EOF\s*$/.test(body);
    res
      .writeHead(200, {
        'Content-Type': openMetrics
          ? 'application/openmetrics-text; version=1.0.0; charset=utf-8'
          : 'text/plain; version=0.0.4; charset=utf-8',
      })
      .end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    routes: map,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface CollectorHarness {
  app: NestFastifyApplication;
  url: string;
  db: TestDatabase;
  namespace: string;
  pool: Pool;
  /** A read-side store over the collector's schema, for assertions. */
  store: SampleStore;
  config: CollectorConfig;
  stop(): Promise<void>;
}

export function testEnv(
  db: TestDatabase,
  namespace: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    NATS_NAMESPACE: namespace,
    COLLECTOR_PORT: '0',
    COLLECTOR_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...TEST_AUTH_ENV,
    ...extra,
  };
}

export async function startCollector(
  scrapeYaml = '',
  opts: { db?: TestDatabase; namespace?: string; env?: Record<string, string> } = {},
): Promise<CollectorHarness> {
  const db = opts.db ?? (await createTestDatabase());
  const namespace = opts.namespace ?? testNamespace();
  const config = loadCollectorConfig(testEnv(db, namespace, opts.env));
  const app = await createCollectorApp(config, {
    settings: parseScrapeConfig(scrapeYaml, 'test.yml'),
    logger: pino({ level: 'warn' }),
  });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const pool = createPool(db.url);
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    db,
    namespace,
    pool,
    store: new SampleStore(pool, { schema: config.dbSchema }),
    config,
    async stop() {
      await app.close();
      await pool.end();
      await db.drop();
    },
  };
}
