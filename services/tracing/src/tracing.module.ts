import { Module, type DynamicModule } from '@nestjs/common';
import { AccessModule, accessOptions } from '@arcwatch/access';
import { ensurePartitions } from '@arcwatch/storage';
import { RuntimeModule, type Clock, type Logger, natsAuth } from '@arcwatch/runtime';
import { AssemblyBacklog } from './assembly/assembly-backlog';
import { AckedBefore } from './assembly/acked-before';
import { AssemblyConsumer } from './assembly/assembly.consumer';
import { AssemblyService } from './assembly/assembly.service';
import { AssemblyWorker } from './assembly/assembly.worker';
import { keyDirectoryHolderProvider, keyDirectoryProvider } from './assembly/key-directory.provider';
import { KeyFilesResponder } from './assembly/key-files.responder';
import { TRACING_CONFIG, type TracingConfig } from './config';
import { AffectedTenantsResponder } from './context/affected-tenants.responder';
import { tracingMigrations } from './database/tracing.migrations';
import { IngestController } from './ingest/ingest.controller';
import { IngestService } from './ingest/ingest.service';
import { IngestThreads } from './ingest/ingest-threads';
import { TracingMetrics } from './metrics';
import { tracingOutboxRelayProvider } from './outbox.provider';
import { RequestsController } from './query/requests.controller';
import { RequestsService } from './query/requests.service';
import { StatsService } from './stats/stats.service';

export interface TracingModuleOptions {
  config: TracingConfig;
  logger: Logger;
  clock?: Clock;
  /** Tests drive passes themselves (AssemblyWorker.runOnce) instead of the timer. */
  disableWorkerTimer?: boolean;
}

@Module({})
export class TracingModule {
  static forRoot(opts: TracingModuleOptions): DynamicModule {
    const { config } = opts;
    return {
      module: TracingModule,
      imports: [
        RuntimeModule.forRoot({
          service: 'tracing',
          logger: opts.logger,
          ...(opts.clock ? { clock: opts.clock } : {}),
          postgres: {
            url: config.databaseUrl,
            schema: config.dbSchema,
            migrations: tracingMigrations,
            // Today's partitions and two days ahead, before the first write.
            prepare: async (pool) =>
              void (await ensurePartitions(pool, `${config.dbSchema}.requests`, {
                retentionDays: config.retentionDays,
              })),
          },
          nats: {
            url: config.natsUrl,
            auth: natsAuth(config),
            namespace: config.natsNamespace,
            replicas: config.natsStreamReplicas,
            streams: ['requests', 'metrics', 'deadLetter'],
          },
        }),
        AccessModule.forRoot(accessOptions(config)),
      ],
      controllers: [IngestController, RequestsController],
      providers: [
        {
          provide: TRACING_CONFIG,
          useValue: opts.disableWorkerTimer ? { ...config, assemblyIntervalMs: 2 ** 31 - 1 } : config,
        },
        keyDirectoryHolderProvider,
        keyDirectoryProvider,
        KeyFilesResponder,
        TracingMetrics,
        tracingOutboxRelayProvider,
        StatsService,
        AssemblyBacklog,
        AckedBefore,
        AssemblyService,
        AssemblyWorker,
        AssemblyConsumer,
        IngestThreads,
        IngestService,
        RequestsService,
        AffectedTenantsResponder,
      ],
    };
  }
}
