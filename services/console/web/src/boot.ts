import { api } from './api';
import { parseParams, viewOf } from './url-state';

/**
 * Asked as soon as the script runs, in parallel: the session, and the fleet when the URL opens the
 * fleet page (the landing page). Waiting for the session before asking for the fleet would put
 * one more round trip, and React's first render, before the heatmap.
 */
const landing = viewOf(parseParams(window.location.search));
export const bootSession = api<unknown>('session');
let bootFleet: Promise<unknown> | undefined =
  landing === 'fleet' ? api<unknown>('fleet').catch(() => undefined) : undefined;

/** The fleet asked at start, once: later visits to the page ask afresh. */
export function takeBootFleet<T>(): Promise<T | undefined> | undefined {
  const p = bootFleet as Promise<T | undefined> | undefined;
  bootFleet = undefined;
  return p;
}
