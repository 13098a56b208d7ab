import type { Labels } from '@arcwatch/contracts';

/** One distinct label text (`{…}` exactly as written) and its frozen label object. */
export interface LabelEntry {
  readonly key: string;
  readonly labels: Labels;
  /** The entry that followed this one last time: exporters print label sets in a stable order. */
  next: LabelEntry | undefined;
}

const DEFAULT_LIMIT = 200_000;

/**
 * Label objects by their exact text. Two levels: first a guess — the label text that followed
 * the previous line's label text last time (dcgm-exporter prints the same GPUs in the same order
 * for every metric, and a target prints the same body order on every scrape), checked with one
 * string comparison; then a hash lookup. Share one cache across the scrapes of a target (one per
 * format: the two formats accept different label texts) so a steady target allocates no labels.
 */
export class LabelCache {
  private readonly byKey = new Map<string, LabelEntry>();

  constructor(private readonly limit = DEFAULT_LIMIT) {}

  /** Metric names as the parser keeps them (flat copies), so that a target's next scrape reuses them. */
  private readonly names = new Map<string, string>();

  get size(): number {
    return this.byKey.size;
  }

  /**
   * The kept copy of a metric name (ASCII, as the name grammar is); the first sight of one keeps
   * a flat copy: not a view of the body, and compared character by character on every line
   * (a view is slower to read that way).
   */
  name(name: string): string {
    const known = this.names.get(name);
    if (known !== undefined) return known;
    if (this.names.size >= this.limit) this.names.clear();
    const copy = name.length < 13 ? name : Buffer.from(name, 'latin1').toString('latin1');
    this.names.set(copy, copy);
    return copy;
  }

  /** `guess` is the previous line's entry; returns the entry for `key`, if known. */
  find(key: string, previous: LabelEntry | undefined): LabelEntry | undefined {
    const guess = previous?.next;
    if (guess !== undefined && guess.key === key) return guess;
    const found = this.byKey.get(key);
    if (found !== undefined && previous !== undefined) previous.next = found;
    return found;
  }

  add(key: string, labels: Labels, previous: LabelEntry | undefined): LabelEntry {
    if (this.byKey.size >= this.limit) this.byKey.clear();
    const entry: LabelEntry = { key: detach(key), labels, next: undefined };
    this.byKey.set(entry.key, entry);
    if (previous !== undefined) previous.next = entry;
    return entry;
  }
}

/**
 * A copy of `s` that does not point into the body it was sliced from: V8 keeps substrings as
 * views of their parent, and a cached view would keep a whole multi-megabyte scrape alive.
 * Concatenating and slicing forces a flat copy.
 */
export function detach(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}
