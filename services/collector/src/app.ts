import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, createServiceApp, type Clock, type Logger } from '@arcwatch/runtime';
import { loadRuleFiles } from '@arcwatch/rules';
import { CollectorModule } from './collector.module';
import type { CollectorConfig } from './config';
import { loadScrapeConfigFile } from './config/scrape-config.loader';
import type { ScrapeSettings } from './config/scrape-config.schema';
import { CollectorErrorFilter } from './http/prometheus-response';

export interface CreateCollectorOptions {
  logger?: Logger;
  clock?: Clock;
  /** Scrape settings given directly (tests); otherwise read from config.scrapeConfigFile. */
  settings?: ScrapeSettings;
}

const EMPTY_SETTINGS: ScrapeSettings = { cluster: 'default', jobs: [], warnings: [] };

/**
 * The collector's Nest app, not yet listening. The scrape configuration and the rule files are
 * validated before anything connects: a bad file fails here with its file:line:column issues.
 */
export async function createCollectorApp(
  config: CollectorConfig,
  opts: CreateCollectorOptions = {},
): Promise<NestFastifyApplication> {
  const logger = opts.logger ?? createLogger('collector', config.logLevel);
  const settings =
    opts.settings ?? (config.scrapeConfigFile ? loadScrapeConfigFile(config.scrapeConfigFile) : EMPTY_SETTINGS);
  const ruleGroups = loadRuleFiles(config.ruleFiles);
  const app = await createServiceApp({
    logger,
    module: CollectorModule.forRoot({ config, settings, ruleGroups, logger, clock: opts.clock }),
    bodyLimit: config.bodyLimitBytes,
    configureFastify: (fastify) => {
      // remote_write sends snappy-compressed protobuf; the import endpoint takes any text exposition.
      fastify.addContentTypeParser(
        ['application/x-protobuf', 'application/octet-stream'],
        { parseAs: 'buffer' },
        (_req, body, done) => done(null, body),
      );
      fastify.addContentTypeParser(['application/openmetrics-text'], { parseAs: 'string' }, (_req, body, done) =>
        done(null, body),
      );
    },
  });
  // Nest tries the last global filter first: this one answers every error, the Prometheus-
  // compatible routes in Prometheus's body and the others through the runtime's HttpErrorFilter.
  app.useGlobalFilters(new CollectorErrorFilter(logger.child({ component: 'http' }), config.bodyLimitBytes));
  return app;
}
