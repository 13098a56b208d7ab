// The pure parts of the tracing service, for the offline CLI (`arcwatch trace assemble`) and
// the benchmarks. The Nest application starts from main.ts, never from here.
export * from './assembly/request-state';
export * from './assembly/assembly.decider';
export * from './assembly/assembler';
export * from './assembly/tenant-directory';
export * from './ingest/event-input';
export * from './config/api-keys.config';
export * from './tracing.errors';
