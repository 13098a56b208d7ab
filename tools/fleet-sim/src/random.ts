/**
 * Seeded randomness for the simulator. Every draw goes through a `Random` so that one seed gives
 * one fleet history, byte for byte, in tests and in a live run alike.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
}

/** mulberry32: 32-bit state, fast, good enough for workload shapes (not for cryptography). */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return {
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** A child stream whose draws do not shift when another part of the model draws more or less. */
export function forkRandom(parent: Random, salt: number): Random {
  return seededRandom(Math.floor(parent.next() * 4294967296) ^ Math.imul(salt + 1, 0x9e3779b1));
}

export function uniform(r: Random, lo: number, hi: number): number {
  return lo + (hi - lo) * r.next();
}

export function standardNormal(r: Random): number {
  // Box–Muller; 1 - u keeps log() away from 0.
  const u = 1 - r.next();
  const v = r.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Log-normal with the given median and shape; token counts and latencies are long-tailed. */
export function logNormal(r: Random, median: number, sigma: number): number {
  return median * Math.exp(sigma * standardNormal(r));
}

/** Poisson count for a mean; Knuth for small means, a normal approximation above 30. */
export function poisson(r: Random, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * standardNormal(r)));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = r.next();
  while (p > limit) {
    k++;
    p *= r.next();
  }
  return k;
}

export function pick<T>(r: Random, items: readonly T[]): T {
  return items[Math.floor(r.next() * items.length) % items.length];
}

/** Picks an index with probability proportional to its weight. */
export function pickWeighted(r: Random, weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let x = r.next() * total;
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i];
    if (x < 0) return i;
  }
  return weights.length - 1;
}

export function hex(r: Random, digits: number): string {
  let s = '';
  for (let i = 0; i < digits; i++) s += Math.floor(r.next() * 16).toString(16);
  return s;
}

/** Injected time: the live shell passes the wall clock, tests pass a fixed or stepped one. */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
