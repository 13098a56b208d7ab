/** Time as a dependency: the service reads it here, tests set it. */
export interface Clock {
  nowMs(): number;
}

export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = { nowMs: () => Date.now() };
