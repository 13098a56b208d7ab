import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { CollectorAppModule } from './app.module';
import type { CollectorConfig } from './config';
import { loadScrapeConfigFile } from './config/scrape-config.loader';
import type { ScrapeSettings } from './config/scrape-config.schema';
import { createLogger, PinoNestLogger } from './core/logger';
import { loadRuleFiles } from '@arcwatch/rules';
import type { Clock } from './core/tokens';
import { CollectorErrorFilter } from './http/prometheus-response';

export interface CreateCollectorOptions {
  logger?: Logger;
  clock?: Clock;
  /** Scrape settings given directly (tests); otherwise read from config.scrapeConfigFile. */
  settings?: ScrapeSettings;
}

const EMPTY_SETTINGS: ScrapeSettings = { cluster: 'default', jobs: [], warnings: [] };
const BODY_LIMIT = 64 * 1024 * 1024;

/** Builds the Nest app (not yet listening); the config file is validated before anything connects. */
export async function createCollectorApp(config: CollectorConfig, opts: CreateCollectorOptions = {}): Promise<NestFastifyApplication> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const settings = opts.settings ?? (config.scrapeConfigFile ? loadScrapeConfigFile(config.scrapeConfigFile) : EMPTY_SETTINGS);
  const ruleGroups = loadRuleFiles(config.ruleFiles);
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT });
  const fastify = adapter.getInstance();
  // remote_write sends snappy-compressed protobuf; the import endpoint takes any text exposition.
  fastify.addContentTypeParser(['application/x-protobuf', 'application/octet-stream'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  fastify.addContentTypeParser(['application/openmetrics-text'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  const app = await NestFactory.create<NestFastifyApplication>(CollectorAppModule.forRoot({ config, settings, logger, ruleGroups, ...(opts.clock ? { clock: opts.clock } : {}) }), adapter, {
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
  });
  app.useGlobalFilters(new CollectorErrorFilter());
  app.enableShutdownHooks();
  return app;
}
