import type { LabelMatcher, Labels, Queryable, SeriesData } from '@arcwatch/contracts';
import { MemoryQueryable } from '@arcwatch/promql';
import type { Clock, TimerHandle } from '@arcwatch/runtime';
import { nextEvalTime, seriesKey } from './recording.evaluator';

/**
 * Runs one group on interval boundaries of the clock. One evaluation at a time: when one
 * overruns its interval, the boundaries it covered are skipped (as Prometheus counts missed
 * iterations) rather than queued. Time and timers come from the Clock, so schedules are tested
 * without waiting.
 */
export class GroupScheduler {
  private handle: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly run: (evalTimeMs: number) => Promise<void>,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    const at = nextEvalTime(now, this.intervalMs);
    this.handle = this.clock.setTimeout(() => {
      this.running = this.run(at).finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, at - now);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.handle);
    await this.running;
  }
}

/**
 * The store seen through the results of the rules evaluated so far in this group evaluation:
 * in Prometheus a rule reads what the rules before it in the group just recorded, although
 * here those samples are still on their way through JetStream to the writer.
 */
export class GroupOverlayQueryable implements Queryable {
  private readonly recent = new MemoryQueryable();

  constructor(private readonly base: Queryable) {}

  add(labels: Labels, timestampMs: number, value: number): void {
    this.recent.add(labels, timestampMs, value);
  }

  async select(matchers: LabelMatcher[], startMs: number, endMs: number): Promise<SeriesData[]> {
    const [stored, recent] = await Promise.all([
      this.base.select(matchers, startMs, endMs),
      this.recent.select(matchers, startMs, endMs),
    ]);
    if (recent.length === 0) return stored;
    const byKey = new Map(stored.map((s) => [seriesKey(s.labels), s]));
    for (const r of recent) {
      const key = seriesKey(r.labels);
      const s = byKey.get(key);
      byKey.set(key, s ? mergeSamples(s, r) : r);
    }
    return [...byKey.values()];
  }

  labelNames(matchers: LabelMatcher[][], startMs: number, endMs: number): Promise<string[]> {
    return this.base.labelNames(matchers, startMs, endMs);
  }

  labelValues(name: string, matchers: LabelMatcher[][], startMs: number, endMs: number): Promise<string[]> {
    return this.base.labelValues(name, matchers, startMs, endMs);
  }

  series(matchers: LabelMatcher[][], startMs: number, endMs: number): Promise<Labels[]> {
    return this.base.series(matchers, startMs, endMs);
  }
}

/** Time-ordered union; at an equal timestamp the just-recorded sample wins. */
function mergeSamples(stored: SeriesData, recent: SeriesData): SeriesData {
  // Float64Array, not number[]: a plain array may canonicalise the staleness marker's NaN payload.
  const ts = new Float64Array(stored.timestamps.length + recent.timestamps.length);
  const vs = new Float64Array(ts.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < stored.timestamps.length || j < recent.timestamps.length) {
    const a = i < stored.timestamps.length ? stored.timestamps[i] : Infinity;
    const b = j < recent.timestamps.length ? recent.timestamps[j] : Infinity;
    if (b <= a) {
      ts[n] = b;
      vs[n++] = recent.values[j++];
      if (a === b) i++;
    } else {
      ts[n] = a;
      vs[n++] = stored.values[i++];
    }
  }
  return { labels: stored.labels, timestamps: ts.subarray(0, n), values: vs.subarray(0, n) };
}
