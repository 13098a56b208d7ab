import { Module, type DynamicModule, type OnApplicationShutdown, Inject } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Pool } from 'pg';
import { MessagingModule } from '@arcwatch/messaging';
import { AssemblyConsumer } from './assembly/assembly.consumer';
import { AssemblyService } from './assembly/assembly.service';
import { AssemblyWorker } from './assembly/assembly.worker';
import { keyDirectoryProvider } from './assembly/key-directory.provider';
import { CLOCK, systemClock, type Clock } from './clock';
import { TRACING_CONFIG, type TracingConfig } from './config';
import { PG_POOL, openDatabase } from './database/database.providers';
import { HealthController } from './health/health.controller';
import { TracingMetrics } from './health/tracing.metrics';
import { IngestController } from './ingest/ingest.controller';
import { IngestService } from './ingest/ingest.service';
import { OutboxRelay } from './outbox/outbox.relay';
import { RequestsController } from './query/requests.controller';
import { RequestsService } from './query/requests.service';
import { StatsService } from './stats/stats.service';
import { TracingErrorFilter } from './tracing-error.filter';

export interface TracingModuleOptions {
  config: TracingConfig;
  clock?: Clock;
  /** Tests drive passes themselves (AssemblyWorker.runOnce) instead of the timer. */
  disableWorkerTimer?: boolean;
}

@Module({})
export class TracingModule implements OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  static forRoot(opts: TracingModuleOptions): DynamicModule {
    const { config } = opts;
    return {
      module: TracingModule,
      imports: [MessagingModule.forRoot({ name: 'tracing', url: config.natsUrl, namespace: config.natsNamespace, streams: ['requests', 'metrics', 'deadLetter'] })],
      controllers: [IngestController, RequestsController, HealthController],
      providers: [
        { provide: TRACING_CONFIG, useValue: opts.disableWorkerTimer ? { ...config, assemblyIntervalMs: 2 ** 31 - 1 } : config },
        { provide: CLOCK, useValue: opts.clock ?? systemClock },
        { provide: PG_POOL, useFactory: () => openDatabase(config) },
        { provide: APP_FILTER, useClass: TracingErrorFilter },
        keyDirectoryProvider,
        TracingMetrics,
        StatsService,
        AssemblyService,
        OutboxRelay,
        AssemblyWorker,
        AssemblyConsumer,
        IngestService,
        RequestsService,
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
