/**
 * The parts of @arcwatch/runtime and @arcwatch/messaging the agent uses, imported file by file.
 * The packages' entry points also load NestJS, Fastify, terminus and the PostgreSQL driver (their
 * modules and controllers), about 90 MiB of a process that must stay small on every GPU node
 * (docs/decisions/0006-agent-runtime.md); the agent has no database and serves three plain routes.
 * Nothing here loads zod: the agent checks its environment and file by hand (config.ts).
 */
export type { LogLevel } from '@arcwatch/runtime/src/config';
export { createLogger, type Logger } from '@arcwatch/runtime/src/logger';
export { natsAuth, type NatsAuth } from '@arcwatch/runtime/src/nats-auth';
export { systemClock, ManualClock, type Clock, type TimerHandle } from '@arcwatch/runtime/src/clock';
export { defineErrorCodes, ServiceError } from '@arcwatch/runtime/src/errors';
export {
  MetricsRegistry,
  type Counter,
  type Gauge,
  type Histogram,
} from '@arcwatch/runtime/src/metrics/metrics.registry';
export { EventBus } from '@arcwatch/messaging/src/event-bus';
// Token checks without the token store, NestJS or zod (libs/access/src/token.ts).
export { configuredTokenCheck, MIN_CONFIGURED_TOKEN_LENGTH, type TokenCheckResult } from '@arcwatch/access/src/token';
