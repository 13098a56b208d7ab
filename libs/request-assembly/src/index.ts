// Request assembly as pure functions: lifecycle events in, request records out. The tracing
// service runs it over PostgreSQL state; `arcwatch trace assemble` runs it offline.
export * from './request-state';
export * from './assembly.decider';
export * from './assembler';
export * from './tenant-directory';
export * from './event-input';
export * from './api-keys.config';
