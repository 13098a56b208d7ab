/** Injection tokens of what the runtime provides to every service. */
export const CLOCK = Symbol('CLOCK');
export const LOGGER = Symbol('LOGGER');
export const PG_POOL = Symbol('PG_POOL');
export const SERVICE_NAME = Symbol('SERVICE_NAME');
/** Extra readiness checks a service adds (a Redis connection, a worker queue). */
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
