import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { EventBus } from '@arcwatch/messaging';
import { createPool, migrate, sampleStoreMigrations, SampleStore } from '@arcwatch/storage';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import type { CollectorConfig } from '../config';
import type { ScrapeSettings } from '../config/scrape-config.schema';
import { CLOCK, COLLECTOR_CONFIG, DB_POOL, EVENT_BUS, LOGGER, SAMPLE_STORE, SCRAPE_SETTINGS, systemClock, type Clock } from './tokens';

export interface CoreOptions {
  config: CollectorConfig;
  settings: ScrapeSettings;
  logger: Logger;
  clock?: Clock;
  /** Whether this process needs Postgres (writer and catalog). */
  withStorage: boolean;
}

/** Closes the connections last, after every module has stopped using them. */
class ConnectionsCloser implements OnApplicationShutdown {
  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly pool: Pool | undefined,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    await this.bus.drain();
    await this.pool?.end();
  }
}

/** Config, clock, logger and the two connections (NATS, Postgres), shared by every module. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(opts: CoreOptions): DynamicModule {
    const { config, logger } = opts;
    const providers: Provider[] = [
      { provide: COLLECTOR_CONFIG, useValue: config },
      { provide: SCRAPE_SETTINGS, useValue: opts.settings },
      { provide: CLOCK, useValue: opts.clock ?? systemClock },
      { provide: LOGGER, useValue: logger },
      {
        provide: EVENT_BUS,
        useFactory: async () => {
          const bus = await EventBus.connect({ url: config.natsUrl, name: 'collector', namespace: config.natsNamespace, logger: logger.child({ component: 'messaging' }) });
          await bus.ensureStreams(['metrics', 'deadLetter']);
          return bus;
        },
      },
    ];
    const exported: Array<string | symbol> = [COLLECTOR_CONFIG, SCRAPE_SETTINGS, CLOCK, LOGGER, EVENT_BUS];
    if (opts.withStorage) {
      providers.push(
        {
          provide: DB_POOL,
          useFactory: async () => {
            const pool = createPool(config.databaseUrl);
            await pool.query(`CREATE SCHEMA IF NOT EXISTS ${config.dbSchema}`);
            const r = await migrate(pool, { schema: config.dbSchema, migrations: sampleStoreMigrations(config.dbSchema) });
            if (r.applied.length > 0) logger.info({ applied: r.applied, timescale: r.timescale }, 'migrations applied');
            return pool;
          },
        },
        { provide: SAMPLE_STORE, useFactory: (pool: Pool) => new SampleStore(pool, { schema: config.dbSchema }), inject: [DB_POOL] },
        { provide: ConnectionsCloser, useFactory: (bus: EventBus, pool: Pool) => new ConnectionsCloser(bus, pool), inject: [EVENT_BUS, DB_POOL] },
      );
      exported.push(DB_POOL, SAMPLE_STORE);
    } else {
      providers.push({ provide: ConnectionsCloser, useFactory: (bus: EventBus) => new ConnectionsCloser(bus, undefined), inject: [EVENT_BUS] });
    }
    return { module: CoreModule, providers, exports: exported };
  }
}
