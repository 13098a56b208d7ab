import { z } from 'zod';
import { durationMs } from '@arcwatch/config-files';

/**
 * Flap detection with hysteresis, for the alert state machine. Every change of a finding between
 * active and inactive is a transition; when `enter` transitions fall within `window`, the alert
 * is flapping, and stays so until no more than `exit` transitions remain in the window. While it
 * flaps the alert is held firing (`holdFiring`) and marked flapping, so a metric that bounces
 * around its threshold gives one long alert instead of a page per bounce. The two levels keep the
 * mark itself from flapping. Pure: `observeFlap` returns a new state and never mutates its input.
 */
export interface FlapParams {
  windowMs: number;
  /** Transitions within the window that start flapping. */
  enter: number;
  /** Flapping ends when the window holds no more than this many transitions. */
  exit: number;
}

export const DEFAULT_FLAP: FlapParams = { windowMs: 30 * 60_000, enter: 4, exit: 1 };

/** The `flap:` section of a detector config (durations as text, e.g. `30m`). */
export const flapConfigSchema = z
  .object({
    window: durationMs.default(30 * 60_000),
    enter: z.number().int().min(2).default(DEFAULT_FLAP.enter),
    exit: z.number().int().min(0).default(DEFAULT_FLAP.exit),
  })
  .strict()
  .refine((f) => f.exit < f.enter, { message: 'exit must be below enter (that is the hysteresis)', path: ['exit'] })
  .transform((f): FlapParams => ({ windowMs: f.window, enter: f.enter, exit: f.exit }));

/** JSON-safe; persist it beside the alert's state. */
export interface FlapState {
  /** Whether the finding was active at the last observation; null before the first. */
  active: boolean | null;
  /** Times (ms) of the transitions still inside the window, oldest first. */
  transitions: number[];
  flapping: boolean;
}

export interface FlapObservation {
  state: FlapState;
  flapping: boolean;
  /** `started` / `stopped` on the observation where the mark changes, else null. */
  change: 'started' | 'stopped' | null;
  /** True while flapping and the finding is inactive: report it as still firing, not resolved. */
  holdFiring: boolean;
}

export function initialFlapState(): FlapState {
  return { active: null, transitions: [], flapping: false };
}

/** Feeds the finding's activity at `timeMs` (call it on every evaluation, not only on changes). */
export function observeFlap(
  state: FlapState,
  timeMs: number,
  active: boolean,
  params: FlapParams = DEFAULT_FLAP,
): FlapObservation {
  const transitions = state.transitions.filter((t) => t > timeMs - params.windowMs);
  if (state.active !== null && state.active !== active) transitions.push(timeMs);
  let flapping = state.flapping;
  if (!flapping && transitions.length >= params.enter) flapping = true;
  else if (flapping && transitions.length <= params.exit) flapping = false;
  const change = flapping === state.flapping ? null : flapping ? 'started' : 'stopped';
  return { state: { active, transitions, flapping }, flapping, change, holdFiring: flapping && !active };
}
