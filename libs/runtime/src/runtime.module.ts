import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { HealthIndicatorService, TerminusModule, type HealthIndicatorFunction } from '@nestjs/terminus';
import type { Pool } from 'pg';
import type { StreamKey } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { createPool, migrate, type Migration } from '@arcwatch/storage';
import { systemClock, type Clock } from './clock';
import { HealthController } from './health/health.controller';
import { natsReady, postgresReady } from './health/readiness';
import type { NatsAuth } from './nats-auth';
import type { Logger } from './logger';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsRegistry } from './metrics/metrics.registry';
import { CLOCK, LOGGER, PG_POOL, READINESS_CHECKS, SERVICE_NAME } from './tokens';

export interface PostgresOptions {
  url: string;
  /** The service's own schema; created and migrated at start-up. */
  schema: string;
  migrations: Migration[];
  /** Work after migrating (partitions ahead, seed rows). */
  prepare?: (pool: Pool) => Promise<void>;
  poolSize?: number;
}

export interface NatsOptions {
  url: string;
  namespace?: string | undefined;
  /** Streams this service publishes to, created when missing. */
  streams: StreamKey[];
  /** Replicas of the streams it creates (NATS_STREAM_REPLICAS); default 1. */
  replicas?: number;
  /** The service's NATS user (`natsAuth(config)`); anonymous when undefined. */
  auth?: NatsAuth | undefined;
}

export interface RuntimeOptions {
  service: string;
  logger: Logger;
  clock?: Clock;
  postgres?: PostgresOptions;
  nats?: NatsOptions;
  /** More readiness checks (e.g. Redis), given the terminus indicator service. */
  readiness?: Array<(indicators: HealthIndicatorService) => HealthIndicatorFunction>;
}

/** Closes the connections last, after every module has stopped using them: drain NATS, then the pool. */
class ConnectionsCloser implements OnApplicationShutdown {
  constructor(
    private readonly bus: EventBus | undefined,
    private readonly pool: Pool | undefined,
    private readonly logger: Logger,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    await this.bus?.drain().catch((err: unknown) => this.logger.warn({ err }, 'NATS drain failed'));
    await this.pool?.end().catch((err: unknown) => this.logger.warn({ err }, 'pool close failed'));
  }
}

async function openPool(opts: PostgresOptions, logger: Logger): Promise<Pool> {
  const pool = createPool(opts.url, { max: opts.poolSize ?? 10 }, (err) =>
    logger.warn({ err: err.message }, 'idle PostgreSQL connection closed'),
  );
  try {
    // migrate creates the schema under its lock: replicas starting together on an empty database
    // would otherwise race on CREATE SCHEMA IF NOT EXISTS, and all but one fail (23505).
    const r = await migrate(pool, { schema: opts.schema, migrations: opts.migrations });
    if (r.applied.length > 0) logger.info({ applied: r.applied, timescale: r.timescale }, 'migrations applied');
    await opts.prepare?.(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return pool;
}

async function openBus(service: string, opts: NatsOptions, logger: Logger): Promise<EventBus> {
  const bus = await EventBus.connect({
    url: opts.url,
    name: service,
    namespace: opts.namespace,
    ...(opts.auth ?? {}),
    logger: logger.child({ component: 'messaging' }),
  });
  try {
    if (opts.streams.length > 0)
      await bus.ensureStreams(opts.streams, opts.replicas === undefined ? {} : { replicas: opts.replicas });
  } catch (err) {
    await bus.drain();
    throw err;
  }
  return bus;
}

/**
 * What every service gets the same way: logger, clock, metrics registry, the PostgreSQL pool
 * (migrated) and the JetStream bus when the service uses them, /healthz, /readyz and /metrics,
 * and the order in which connections close at shutdown.
 */
@Global()
@Module({})
export class RuntimeModule {
  static forRoot(opts: RuntimeOptions): DynamicModule {
    const { logger } = opts;
    const providers: Provider[] = [
      { provide: SERVICE_NAME, useValue: opts.service },
      { provide: LOGGER, useValue: logger },
      { provide: CLOCK, useValue: opts.clock ?? systemClock },
      { provide: MetricsRegistry, useValue: new MetricsRegistry(opts.service) },
    ];
    const exported: Array<string | symbol | typeof MetricsRegistry | typeof EventBus> = [
      SERVICE_NAME,
      LOGGER,
      CLOCK,
      MetricsRegistry,
    ];
    const closerDeps: Array<symbol | typeof EventBus> = [];
    if (opts.postgres) {
      const pg = opts.postgres;
      providers.push({ provide: PG_POOL, useFactory: () => openPool(pg, logger.child({ component: 'postgres' })) });
      exported.push(PG_POOL);
    }
    if (opts.nats) {
      const nats = opts.nats;
      providers.push({ provide: EventBus, useFactory: () => openBus(opts.service, nats, logger) });
      exported.push(EventBus);
    }
    closerDeps.push(...(opts.nats ? [EventBus] : []), ...(opts.postgres ? [PG_POOL] : []));
    providers.push({
      provide: ConnectionsCloser,
      inject: closerDeps,
      useFactory: (...deps: unknown[]) => {
        const bus = opts.nats ? (deps.shift() as EventBus) : undefined;
        const pool = opts.postgres ? (deps.shift() as Pool) : undefined;
        return new ConnectionsCloser(bus, pool, logger);
      },
    });
    providers.push({
      provide: READINESS_CHECKS,
      inject: [HealthIndicatorService, ...closerDeps],
      useFactory: (indicators: HealthIndicatorService, ...deps: unknown[]): HealthIndicatorFunction[] => {
        const bus = opts.nats ? (deps.shift() as EventBus) : undefined;
        const pool = opts.postgres ? (deps.shift() as Pool) : undefined;
        const checks: HealthIndicatorFunction[] = [];
        if (pool) checks.push(() => postgresReady(indicators, pool));
        if (bus) checks.push(() => natsReady(indicators, bus));
        for (const extra of opts.readiness ?? []) checks.push(extra(indicators));
        return checks;
      },
    });
    return {
      module: RuntimeModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController, MetricsController],
      providers,
      exports: exported,
    };
  }
}

/** Injects the runtime's logger: `constructor(@InjectLogger() logger: Logger)`. */
export const InjectLogger = (): ParameterDecorator => Inject(LOGGER);
export const InjectClock = (): ParameterDecorator => Inject(CLOCK);
export const InjectPool = (): ParameterDecorator => Inject(PG_POOL);
