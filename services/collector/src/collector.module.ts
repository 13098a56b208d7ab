import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { AccessModule, accessOptions } from '@arcwatch/access';
import { RuntimeModule, type Clock, type Logger, natsAuth } from '@arcwatch/runtime';
import type { RuleGroup } from '@arcwatch/rules';
import { CatalogModule } from './catalog/catalog.module';
import { COLLECTOR_CONFIG, type CollectorConfig } from './config';
import { SCRAPE_SETTINGS } from './config/scrape-config.loader';
import type { ScrapeSettings } from './config/scrape-config.schema';
import { collectorMigrations } from './database/collector.migrations';
import { SAMPLE_STORE, sampleStoreProvider } from './database/sample-store.provider';
import { CollectorMetrics } from './metrics';
import { PushModule } from './push/push.module';
import { QueryModule } from './query/query.module';
import { RecordingModule } from './recording/recording.module';
import { RemoteWriteModule } from './remote-write/remote-write.module';
import { ScrapeModule } from './scrape/scrape.module';
import { WriterModule } from './writer/writer.module';

export interface CollectorModuleOptions {
  config: CollectorConfig;
  settings: ScrapeSettings;
  ruleGroups: readonly RuleGroup[];
  logger: Logger;
  clock?: Clock;
}

/**
 * The collector, assembled by role: `scraper` scrapes and accepts pushes (publishing batches),
 * `writer` projects batches into storage and serves the query API and the series catalog, `all`
 * is both. Only the roles that store open PostgreSQL; every role publishes or consumes on NATS.
 * Global, so that every context module sees the config, the scrape settings, the metrics and
 * the sample store.
 */
@Module({})
export class CollectorModule {
  static forRoot(opts: CollectorModuleOptions): DynamicModule {
    const { config } = opts;
    const ingest = config.role === 'all' || config.role === 'scraper';
    const store = config.role === 'all' || config.role === 'writer';
    const providers: Provider[] = [
      { provide: COLLECTOR_CONFIG, useValue: config },
      { provide: SCRAPE_SETTINGS, useValue: opts.settings },
      CollectorMetrics,
      ...(store ? [sampleStoreProvider(config.dbSchema, config.maxSeries)] : []),
    ];
    return {
      module: CollectorModule,
      global: true,
      imports: [
        RuntimeModule.forRoot({
          service: 'collector',
          logger: opts.logger,
          clock: opts.clock,
          nats: {
            url: config.natsUrl,
            auth: natsAuth(config),
            namespace: config.natsNamespace,
            replicas: config.natsStreamReplicas,
            streams: ['metrics', 'deadLetter'],
          },
          // A scraper stores nothing; it opens PostgreSQL only for the token store its push routes check.
          postgres: store
            ? { url: config.databaseUrl, schema: config.dbSchema, migrations: collectorMigrations(config.dbSchema) }
            : { url: config.databaseUrl, schema: config.accessSchema, migrations: [], poolSize: 2 },
        }),
        AccessModule.forRoot(accessOptions(config)),
        ...(ingest ? [ScrapeModule, PushModule, RemoteWriteModule] : []),
        ...(store ? [WriterModule, CatalogModule, QueryModule, RecordingModule.forRoot(opts.ruleGroups)] : []),
      ],
      providers,
      exports: [COLLECTOR_CONFIG, SCRAPE_SETTINGS, CollectorMetrics, ...(store ? [SAMPLE_STORE] : [])],
    };
  }
}
