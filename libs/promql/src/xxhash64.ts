/**
 * XXH64 (seed 0) and the label-set hash Prometheus derives from it. limit_ratio() keeps or drops a
 * series by where its hash falls in [0, 1), so the hash has to be bit-for-bit Prometheus's for
 * the same series to be picked. BigInt keeps the 64-bit arithmetic exact; limit_ratio is rare
 * enough that its cost does not matter.
 */
import type { Labels } from '@arcwatch/contracts';

const MASK = (1n << 64n) - 1n;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;

const rotl = (v: bigint, r: bigint): bigint => ((v << r) | (v >> (64n - r))) & MASK;
const mul = (a: bigint, b: bigint): bigint => (a * b) & MASK;
const add = (a: bigint, b: bigint): bigint => (a + b) & MASK;

function lane64(b: Uint8Array, i: number): bigint {
  let v = 0n;
  for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(b[i + k]);
  return v;
}

function round(acc: bigint, lane: bigint): bigint {
  return mul(rotl(add(acc, mul(lane, P2)), 31n), P1);
}

function mergeRound(acc: bigint, v: bigint): bigint {
  return add(mul(acc ^ round(0n, v), P1), P4);
}

export function xxhash64(b: Uint8Array): bigint {
  const n = b.length;
  let i = 0;
  let h: bigint;
  if (n >= 32) {
    let v1 = add(P1, P2);
    let v2 = P2;
    let v3 = 0n;
    let v4 = (MASK + 1n - P1) & MASK;
    for (; i + 32 <= n; i += 32) {
      v1 = round(v1, lane64(b, i));
      v2 = round(v2, lane64(b, i + 8));
      v3 = round(v3, lane64(b, i + 16));
      v4 = round(v4, lane64(b, i + 24));
    }
    h = add(add(rotl(v1, 1n), rotl(v2, 7n)), add(rotl(v3, 12n), rotl(v4, 18n)));
    for (const v of [v1, v2, v3, v4]) h = mergeRound(h, v);
  } else {
    h = P5;
  }
  h = add(h, BigInt(n));
  for (; i + 8 <= n; i += 8) h = add(mul(rotl(h ^ round(0n, lane64(b, i)), 27n), P1), P4);
  if (i + 4 <= n) {
    const word = BigInt(b[i] | (b[i + 1] << 8) | (b[i + 2] << 16)) + (BigInt(b[i + 3]) << 24n);
    h = add(mul(rotl(h ^ mul(word, P1), 23n), P2), P3);
    i += 4;
  }
  for (; i < n; i++) h = mul(rotl(h ^ mul(BigInt(b[i]), P5), 11n), P1);
  h ^= h >> 33n;
  h = mul(h, P2);
  h ^= h >> 29n;
  h = mul(h, P3);
  h ^= h >> 32n;
  return h;
}

const encoder = new TextEncoder();

/** Prometheus's `Labels.Hash()`: XXH64 over `name 0xff value 0xff` for every label, sorted by name. */
export function labelsHash(labels: Labels): bigint {
  const parts: number[] = [];
  for (const name of Object.keys(labels).sort()) {
    parts.push(...encoder.encode(name), 0xff, ...encoder.encode(labels[name]), 0xff);
  }
  return xxhash64(Uint8Array.from(parts));
}
