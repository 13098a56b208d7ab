/**
 * The in-memory window of the live metrics stream: every series' recent samples, appended as
 * batches arrive, trimmed to the window's length. It is a Queryable, so the PromQL engine reads
 * it directly; reads that reach before the window go to the history Queryable when one is set
 * (the collector's query API), and the two are joined per series.
 */
import type { LabelMatcher, Labels, Queryable, SeriesData } from '@arcwatch/contracts';
import { matchesAll } from '@arcwatch/promql';

interface WindowSeries {
  labels: Labels;
  ts: Float64Array;
  vs: Float64Array;
  start: number;
  length: number;
}

function keyOf(labels: Labels): string {
  let k = '';
  for (const n of Object.keys(labels).sort()) k += n + '\u0000' + labels[n] + '\u0001';
  return k;
}

function concat(parts: Float64Array[]): Float64Array {
  if (parts.length === 1) return parts[0];
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export class LiveWindow implements Queryable {
  private readonly stored = new Map<string, WindowSeries>();
  /** The same series by metric name: most selectors name their metric, and a full scan per selector is what rule evaluation over a large fleet spent its time on. */
  private readonly byName = new Map<string, Map<string, WindowSeries>>();
  /** The oldest time the window is complete from (the first sample it took). */
  private coveredFromMs = Infinity;

  constructor(
    private readonly windowMs: number,
    private readonly history?: Queryable,
  ) {}

  get size(): number {
    return this.stored.size;
  }

  /** Appends one sample; out-of-order samples are placed in order, an equal timestamp replaces. */
  add(labels: Labels, t: number, v: number): void {
    if (t < this.coveredFromMs) this.coveredFromMs = t;
    const key = keyOf(labels);
    let s = this.stored.get(key);
    if (!s) {
      this.stored.set(key, (s = { labels, ts: new Float64Array(16), vs: new Float64Array(16), start: 0, length: 0 }));
      const name = labels.__name__ ?? '';
      let named = this.byName.get(name);
      if (!named) this.byName.set(name, (named = new Map()));
      named.set(key, s);
    }
    const end = s.start + s.length;
    if (end === s.ts.length) this.grow(s);
    let i = s.start + s.length;
    while (i > s.start && s.ts[i - 1] > t) i--;
    if (i > s.start && s.ts[i - 1] === t) {
      s.vs[i - 1] = v;
      return;
    }
    s.ts.copyWithin(i + 1, i, s.start + s.length);
    s.vs.copyWithin(i + 1, i, s.start + s.length);
    s.ts[i] = t;
    s.vs[i] = v;
    s.length++;
  }

  private grow(s: WindowSeries): void {
    const cap = Math.max(16, s.length * 2);
    const ts = new Float64Array(cap);
    const vs = new Float64Array(cap);
    ts.set(s.ts.subarray(s.start, s.start + s.length));
    vs.set(s.vs.subarray(s.start, s.start + s.length));
    s.ts = ts;
    s.vs = vs;
    s.start = 0;
  }

  /** Drops samples older than now − window, and series left empty. */
  trim(nowMs: number): void {
    const min = nowMs - this.windowMs;
    for (const [k, s] of this.stored) {
      let i = s.start;
      const end = s.start + s.length;
      while (i < end && s.ts[i] < min) i++;
      s.length -= i - s.start;
      s.start = i;
      if (s.length === 0) {
        this.stored.delete(k);
        const named = this.byName.get(s.labels.__name__ ?? '');
        named?.delete(k);
        if (named?.size === 0) this.byName.delete(s.labels.__name__ ?? '');
      }
    }
    if (this.coveredFromMs < min) this.coveredFromMs = min;
  }

  async select(matchers: LabelMatcher[], startMs: number, endMs: number): Promise<SeriesData[]> {
    // Float64Arrays throughout: a plain number array may canonicalise NaN payloads and turn a
    // staleness marker into an ordinary NaN.
    const out = new Map<string, { labels: Labels; ts: Float64Array[]; vs: Float64Array[] }>();
    if (this.history && startMs < this.coveredFromMs) {
      const older = await this.history.select(matchers, startMs, Math.min(endMs, this.coveredFromMs - 1));
      for (const o of older)
        out.set(keyOf(o.labels), {
          labels: o.labels,
          ts: [Float64Array.from(o.timestamps)],
          vs: [Float64Array.from(o.values)],
        });
    }
    const name = matchers.find((m) => m.name === '__name__' && m.type === '=');
    const candidates = name ? (this.byName.get(name.value) ?? new Map<string, WindowSeries>()) : this.stored;
    for (const [k, s] of candidates) {
      if (!matchesAll(matchers, s.labels)) continue;
      const end = s.start + s.length;
      // Binary search for the first sample at or after startMs.
      let lo = s.start;
      let hi = end;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (s.ts[mid] < startMs) lo = mid + 1;
        else hi = mid;
      }
      let j = lo;
      while (j < end && s.ts[j] <= endMs) j++;
      if (j === lo) continue;
      const ts = s.ts.slice(lo, j);
      const vs = s.vs.slice(lo, j);
      const prev = out.get(k);
      if (prev) {
        prev.ts.push(ts);
        prev.vs.push(vs);
      } else out.set(k, { labels: s.labels, ts: [ts], vs: [vs] });
    }
    return [...out.values()].map((o) => ({ labels: o.labels, timestamps: concat(o.ts), values: concat(o.vs) }));
  }

  async series(matchers: LabelMatcher[][], startMs: number, endMs: number): Promise<Labels[]> {
    const out: Labels[] = [];
    for (const s of this.stored.values()) {
      if (matchers.length > 0 && !matchers.some((m) => matchesAll(m, s.labels))) continue;
      const first = s.ts[s.start];
      const last = s.ts[s.start + s.length - 1];
      if (last >= startMs && first <= endMs) out.push({ ...s.labels });
    }
    return out;
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
