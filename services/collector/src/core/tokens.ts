/** Injection tokens for what the collector gets from outside: config, clock, logger, bus, store. */
export const COLLECTOR_CONFIG = Symbol('COLLECTOR_CONFIG');
export const SCRAPE_SETTINGS = Symbol('SCRAPE_SETTINGS');
export const CLOCK = Symbol('CLOCK');
export const LOGGER = Symbol('LOGGER');
export const EVENT_BUS = Symbol('EVENT_BUS');
export const SAMPLE_STORE = Symbol('SAMPLE_STORE');
export const DB_POOL = Symbol('DB_POOL');

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
