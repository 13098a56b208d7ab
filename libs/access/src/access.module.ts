import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { Pool } from 'pg';
import { CLOCK, LOGGER, PG_POOL, type Clock, type Logger } from '@arcwatch/runtime';
import { assertIdentifier, migrate } from '@arcwatch/storage';
import type { Role } from './access';
import { ACCESS_SERVICE, AccessGuard } from './access.guard';
import { accessMigrations } from './access.migrations';
import { AccessRepository } from './access.repository';
import { AccessService, DEFAULT_TOKEN_CACHE_MS } from './access.service';

export interface EnsuredToken {
  token: string;
  role: Role;
  name: string;
}

export interface AccessModuleOptions {
  /** The schema of the token store; every service shares `access` so one token works everywhere. */
  schema?: string;
  sessionTtlMs?: number;
  /** Tokens from the configuration (AUTH_BOOTSTRAP_TOKEN, …) made valid before the app listens. */
  ensureTokens?: EnsuredToken[];
  /**
   * The guard on every route of the app (APP_GUARD), so a route is protected unless marked
   * `@Public()`; default true. Off only for a test module that guards some routes itself.
   */
  guardEveryRoute?: boolean;
  /** How long an authenticated bearer token is trusted without asking the store (AUTH_TOKEN_CACHE_MS). */
  tokenCacheMs?: number;
}

export const DEFAULT_ACCESS_SCHEMA = 'access';
const DAY_MS = 86_400_000;

/**
 * The token store on the runtime's PostgreSQL pool (its schema migrated at start, the configured
 * tokens ensured) and the guard on every route: a handler needs a viewer token unless it says
 * `@Roles(…)` or `@Public()`. Needs RuntimeModule.forRoot with postgres.
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
            // migrate creates the schema under its lock: services sharing the store start together.
            const r = await migrate(pool, { schema, migrations: accessMigrations });
            if (r.applied.length > 0) logger.info({ applied: r.applied, schema }, 'access migrations applied');
            const service = new AccessService(new AccessRepository(pool, schema), clock, opts.sessionTtlMs ?? DAY_MS, {
              tokenCacheMs: opts.tokenCacheMs ?? DEFAULT_TOKEN_CACHE_MS,
            });
            for (const t of opts.ensureTokens ?? []) {
              const stored = await service.ensureToken(t.token, t.role, t.name);
              logger.info(
                { tokenId: stored.id, hint: stored.hint, role: stored.role },
                `configured token valid: ${t.name}`,
              );
            }
            return service;
          },
        },
        AccessGuard,
        ...(opts.guardEveryRoute === false ? [] : [{ provide: APP_GUARD, useExisting: AccessGuard }]),
      ],
      exports: [ACCESS_SERVICE, AccessGuard],
    };
  }
}
