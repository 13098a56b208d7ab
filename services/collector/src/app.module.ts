import { Module, type DynamicModule } from '@nestjs/common';
import { CatalogModule } from './catalog/catalog.module';
import { CoreModule, type CoreOptions } from './core/core.module';
import { ObservabilityModule } from './observability/observability.module';
import { PushModule } from './push/push.module';
import { QueryModule } from './query/query.module';
import { RecordingModule } from './recording/recording.module';
import type { RuleGroup } from '@arcwatch/rules';
import { RemoteWriteModule } from './remote-write/remote-write.module';
import { ScrapeModule } from './scrape/scrape.module';
import { WriterModule } from './writer/writer.module';

/**
 * The collector, assembled by role: `scraper` scrapes and accepts pushes (publishing batches),
 * `writer` projects batches into storage and serves the series catalog, `all` is both.
 */
@Module({})
export class CollectorAppModule {
  static forRoot(opts: Omit<CoreOptions, 'withStorage'> & { ruleGroups?: readonly RuleGroup[] }): DynamicModule {
    const role = opts.config.role;
    const ingest = role === 'all' || role === 'scraper';
    const store = role === 'all' || role === 'writer';
    return {
      module: CollectorAppModule,
      imports: [
        CoreModule.forRoot({ ...opts, withStorage: store }),
        ObservabilityModule,
        ...(ingest ? [ScrapeModule, PushModule, RemoteWriteModule] : []),
        ...(store ? [WriterModule, CatalogModule, QueryModule, RecordingModule.forRoot(opts.ruleGroups ?? [])] : []),
      ],
    };
  }
}
