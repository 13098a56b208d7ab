import { Module, type DynamicModule } from '@nestjs/common';
import type { Pool } from 'pg';
import { CLOCK, LOGGER, PG_POOL, type Clock, type Logger } from '@arcwatch/runtime';
import { assertIdentifier, migrate } from '@arcwatch/storage';
import { ACCESS_SERVICE, AccessGuard } from './access.guard';
import { accessMigrations } from './access.migrations';
import { AccessRepository } from './access.repository';
import { AccessService } from './access.service';

export interface AccessModuleOptions {
  /** The schema of the token store; every service shares `access` so one token works everywhere. */
  schema?: string;
  sessionTtlMs?: number;
}

export const DEFAULT_ACCESS_SCHEMA = 'access';
const DAY_MS = 86_400_000;

/**
 * The token store on the runtime's PostgreSQL pool (its schema migrated at start) and the guard.
 * Needs RuntimeModule.forRoot with postgres. Use the guard with `@UseGuards(AccessGuard)`.
 */
@Module({})
export class AccessModule {
  static forRoot(opts: AccessModuleOptions = {}): DynamicModule {
    const schema = assertIdentifier(opts.schema ?? DEFAULT_ACCESS_SCHEMA);
    return {
      module: AccessModule,
      // Global so that @UseGuards(AccessGuard) resolves in every module of the service.
      global: true,
      providers: [
        {
          provide: ACCESS_SERVICE,
          inject: [PG_POOL, CLOCK, LOGGER],
          useFactory: async (pool: Pool, clock: Clock, logger: Logger) => {
            await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
            const r = await migrate(pool, { schema, migrations: accessMigrations });
            if (r.applied.length > 0) logger.info({ applied: r.applied, schema }, 'access migrations applied');
            return new AccessService(new AccessRepository(pool, schema), clock, opts.sessionTtlMs ?? DAY_MS);
          },
        },
        AccessGuard,
      ],
      exports: [ACCESS_SERVICE, AccessGuard],
    };
  }
}
