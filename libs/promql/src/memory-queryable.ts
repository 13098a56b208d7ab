/**
 * An in-memory Queryable for tests, the promqltest runner and small embedded uses. Samples are
 * kept per series in Float64Arrays: plain JS number arrays may canonicalise NaN payloads, which
 * would turn staleness markers into ordinary NaNs.
 */
import type { LabelMatcher, Labels, Queryable, SeriesData } from '@arcwatch/contracts';
import { matchesAll } from './selectors';
import { labelsKey } from './values';

interface StoredSeries {
  labels: Labels;
  ts: Float64Array;
  vs: Float64Array;
  length: number;
  sorted: boolean;
}

export class MemoryQueryable implements Queryable {
  private readonly stored = new Map<string, StoredSeries>();

  /** Adds one sample; a sample at an existing timestamp replaces it. */
  add(labels: Labels, timestampMs: number, value: number): void {
    const key = labelsKey(labels);
    let s = this.stored.get(key);
    if (!s)
      this.stored.set(
        key,
        (s = { labels: { ...labels }, ts: new Float64Array(8), vs: new Float64Array(8), length: 0, sorted: true }),
      );
    if (s.length === s.ts.length) {
      const ts = new Float64Array(s.ts.length * 2);
      const vs = new Float64Array(s.vs.length * 2);
      ts.set(s.ts);
      vs.set(s.vs);
      s.ts = ts;
      s.vs = vs;
    }
    if (s.length > 0 && s.ts[s.length - 1] >= timestampMs) s.sorted = false;
    s.ts[s.length] = timestampMs;
    s.vs[s.length] = value;
    s.length++;
  }

  /** Adds a series' samples in one call. */
  addSeries(labels: Labels, timestamps: ArrayLike<number>, values: ArrayLike<number>): void {
    for (let i = 0; i < timestamps.length; i++) this.add(labels, timestamps[i], values[i]);
  }

  clear(): void {
    this.stored.clear();
  }

  /** Every stored label set (for tools that inspect what was loaded). */
  allLabels(): Labels[] {
    return [...this.stored.values()].map((s) => s.labels);
  }

  private normalise(s: StoredSeries): void {
    if (s.sorted) return;
    const order = Array.from({ length: s.length }, (_, i) => i).sort((a, b) => s.ts[a] - s.ts[b] || a - b);
    const ts = new Float64Array(s.ts.length);
    const vs = new Float64Array(s.vs.length);
    let n = 0;
    for (const i of order) {
      // Later writes win for duplicate timestamps.
      if (n > 0 && ts[n - 1] === s.ts[i]) n--;
      ts[n] = s.ts[i];
      vs[n] = s.vs[i];
      n++;
    }
    s.ts = ts;
    s.vs = vs;
    s.length = n;
    s.sorted = true;
  }

  private matching(matchers: LabelMatcher[][]): StoredSeries[] {
    const all = [...this.stored.values()];
    if (matchers.length === 0) return all;
    return all.filter((s) => matchers.some((set) => matchesAll(set, s.labels)));
  }

  private hasSamplesIn(s: StoredSeries, startMs: number, endMs: number): boolean {
    this.normalise(s);
    for (let i = 0; i < s.length; i++) if (s.ts[i] >= startMs && s.ts[i] <= endMs) return true;
    return false;
  }

  async select(matchers: LabelMatcher[], startMs: number, endMs: number): Promise<SeriesData[]> {
    const out: SeriesData[] = [];
    for (const s of this.stored.values()) {
      if (!matchesAll(matchers, s.labels)) continue;
      this.normalise(s);
      let from = 0;
      while (from < s.length && s.ts[from] < startMs) from++;
      let to = from;
      while (to < s.length && s.ts[to] <= endMs) to++;
      if (to > from) out.push({ labels: s.labels, timestamps: s.ts.slice(from, to), values: s.vs.slice(from, to) });
    }
    return out;
  }

  async series(matchers: LabelMatcher[][], startMs: number, endMs: number): Promise<Labels[]> {
    return this.matching(matchers)
      .filter((s) => this.hasSamplesIn(s, startMs, endMs))
      .map((s) => ({ ...s.labels }));
  }

  async labelNames(matchers: LabelMatcher[][], startMs: number, endMs: number): Promise<string[]> {
    const names = new Set<string>();
    for (const l of await this.series(matchers, startMs, endMs)) for (const n of Object.keys(l)) names.add(n);
    return [...names].sort();
  }

  async labelValues(name: string, matchers: LabelMatcher[][], startMs: number, endMs: number): Promise<string[]> {
    const values = new Set<string>();
    for (const l of await this.series(matchers, startMs, endMs)) if (l[name] !== undefined) values.add(l[name]);
    return [...values].sort();
  }
}
