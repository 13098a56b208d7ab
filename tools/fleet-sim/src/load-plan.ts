/**
 * When the fleet is busy and when a node is gone: a diurnal curve (peak mid-afternoon UTC), a
 * faster wave per model group so the dashboards move within minutes, and a repeating outage of
 * one node. Pure functions of time, so a test can ask "is node 3 down at t?" without running.
 */
const DAY_MS = 86_400_000;
const WAVE_MS = 17 * 60_000;

export interface OutagePlan {
  /** Node index that dies; -1 for none. */
  node: number;
  /** First death, ms after the simulation start. */
  firstAtMs: number;
  durationMs: number;
  /** Period of repeats; 0 = once. */
  everyMs: number;
}

export function defaultOutagePlan(nodes: number): OutagePlan {
  return { node: nodes >= 2 ? nodes - 1 : -1, firstAtMs: 120_000, durationMs: 90_000, everyMs: 900_000 };
}

/** Is the node down at `ms`? The start of an outage window belongs to it, the end does not. */
export function isDown(plan: OutagePlan, node: number, startMs: number, ms: number): boolean {
  if (plan.node !== node || plan.durationMs <= 0) return false;
  const since = ms - startMs - plan.firstAtMs;
  if (since < 0) return false;
  const phase = plan.everyMs > 0 ? since % plan.everyMs : since;
  return phase < plan.durationMs;
}

/** Time until the next death of the node, or Infinity (drives the XID warning before it). */
export function msUntilDown(plan: OutagePlan, node: number, startMs: number, ms: number): number {
  if (plan.node !== node || plan.durationMs <= 0) return Infinity;
  const since = ms - startMs - plan.firstAtMs;
  if (since < 0) return -since;
  if (plan.everyMs <= 0) return Infinity;
  const phase = since % plan.everyMs;
  return phase < plan.durationMs ? 0 : plan.everyMs - phase;
}

/** 0.35 at night to 1.0 at the 15:00 UTC peak. */
export function diurnal(ms: number): number {
  const hour = (((ms % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000;
  return 0.675 + 0.325 * Math.cos((2 * Math.PI * (hour - 15)) / 24);
}

/** Demand multiplier for a model group at `ms`, before noise. */
export function demand(ms: number, group: number): number {
  const wave = 1 + 0.3 * Math.sin((2 * Math.PI * ms) / WAVE_MS + group * 1.7);
  return diurnal(ms) * wave;
}
