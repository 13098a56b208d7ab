import type { Labels } from './series';

/*
 * The labels a batch's series share, apart from the v2 schema (metrics-batch.v2.ts): the node
 * agent packs batches with these and loads no zod (docs/decisions/0006-agent-runtime.md).
 */

/** The labels (name and value) every series has, `__name__` aside; empty for fewer than two series. */
export function sharedLabels(all: readonly Labels[]): Labels {
  const shared: Labels = {};
  if (all.length < 2) return shared;
  let names = Object.keys(all[0]!).filter((n) => n !== '__name__');
  for (let i = 1; i < all.length && names.length > 0; i++) {
    const l = all[i]!;
    names = names.filter((n) => l[n] === all[0]![n]);
  }
  for (const n of names) shared[n] = all[0]![n]!;
  return shared;
}

/** `labels` without the names in `shared`. */
export function withoutShared(labels: Labels, shared: Labels): Labels {
  const rest: Labels = {};
  for (const n in labels) if (!Object.hasOwn(shared, n)) rest[n] = labels[n]!;
  return rest;
}
