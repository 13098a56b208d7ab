// What tests and benchmarks use from outside the service; the app starts from main.ts.
export { createTracingApp } from './app';
export { loadTracingConfig, tracingEnv, type TracingConfig } from './config';
export { TracingError } from './errors';
