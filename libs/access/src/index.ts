export * from './access';
export { AccessRepository, type StoredToken, type NewToken } from './access.repository';
export { AccessService, newTokenSchema, type IssuedToken, type NewTokenInput, type Session } from './access.service';
export { ACCESS_SERVICE, AccessGuard, AllTenants, CurrentPrincipal, Public, Roles } from './access.guard';
export { AccessModule, DEFAULT_ACCESS_SCHEMA, type AccessModuleOptions, type EnsuredToken } from './access.module';
export * from './access-config';
export { accessMigrations } from './access.migrations';
export { accessTables } from './access.schema';
export { issueRouteTokens } from './access-testing';
