import { hash } from 'node:crypto';
import type { LabelMatcher, Labels } from '@arcwatch/contracts';
import { canonicalLabelKey, compileMatchers, metricNameOf } from './label-matching';

export interface CatalogEntry {
  id: number;
  labels: Labels;
}

/**
 * The in-process copy of the series catalog. A fleet's series (tens of thousands) fit in memory,
 * so label matching happens here and the database only ever sees series ids.
 */
export class SeriesCatalog {
  private readonly byKey = new Map<string, number>();
  private readonly byId = new Map<number, Labels>();
  private readonly byMetric = new Map<string, number[]>();
  maxId = 0;

  get size(): number {
    return this.byId.size;
  }

  idFor(key: string): number | undefined {
    return this.byKey.get(key);
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  labelsOf(id: number): Labels | undefined {
    return this.byId.get(id);
  }

  add(id: number, labels: Labels, key = canonicalLabelKey(labels)): void {
    if (this.byId.has(id)) return;
    this.byId.set(id, labels);
    this.byKey.set(key, id);
    const name = labels.__name__ ?? '';
    const list = this.byMetric.get(name);
    if (list) list.push(id);
    else this.byMetric.set(name, [id]);
    if (id > this.maxId) this.maxId = id;
  }

  /** Forgets a series pruned by retention. */
  remove(id: number): void {
    const labels = this.byId.get(id);
    if (labels === undefined) return;
    this.byId.delete(id);
    this.byKey.delete(canonicalLabelKey(labels));
    const list = this.byMetric.get(labels.__name__ ?? '');
    if (list) {
      const i = list.indexOf(id);
      if (i >= 0) list.splice(i, 1);
    }
  }

  /** Ids of the series matching every matcher, ascending. */
  resolve(matchers: readonly LabelMatcher[]): number[] {
    const match = compileMatchers(matchers);
    const name = metricNameOf(matchers);
    const candidates = name !== undefined ? (this.byMetric.get(name) ?? []) : this.byId.keys();
    const out: number[] = [];
    for (const id of candidates) if (match(this.byId.get(id)!)) out.push(id);
    return out.sort((a, b) => a - b);
  }

  /** Union over matcher sets (the `match[]` of the series / labels APIs); all series when empty. */
  resolveAny(sets: readonly LabelMatcher[][]): number[] {
    if (sets.length === 0) return [...this.byId.keys()].sort((a, b) => a - b);
    const ids = new Set<number>();
    for (const s of sets) for (const id of this.resolve(s)) ids.add(id);
    return [...ids].sort((a, b) => a - b);
  }
}

/** Prometheus treats an empty label value as an absent label; so does the catalog. */
export function normalizeLabels(labels: Labels): Labels {
  const out: Labels = {};
  for (const k of Object.keys(labels)) if (labels[k] !== '') out[k] = labels[k]!;
  return out;
}

/** 16 bytes of SHA-256: collisions are out of reach for any catalog size, and the index stays small. */
export function labelsHash(key: string): Buffer {
  return hash('sha256', key, 'buffer').subarray(0, 16);
}
