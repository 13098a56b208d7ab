import type { MetricsBatchExemplar, MetricsBatchV1 } from '@arcwatch/contracts';
import { labelsKey } from '../scrape/target';

/** A series not pushed for this long no longer counts against its target's limit. */
export const PUSH_SERIES_IDLE_MS = 3_600_000;
/** Targets remembered at most; past it the least recently pushed are forgotten. */
const MAX_TARGETS = 50_000;

export interface GuardResult {
  batch: MetricsBatchV1;
  dropped: number;
}

/**
 * The per-target cardinality guard of pushed samples (text import, remote_write), the scrape
 * guard's counterpart: a scrape sees all of a target's series at once, a push only some, so the
 * guard remembers each target's series (job, instance) and when they were last pushed. Series it
 * already has keep their place; a new series is accepted while the target has fewer than its
 * `series_limit` series pushed within the last hour, and dropped (and counted) otherwise.
 */
export class PushSeriesGuard {
  private readonly targets = new Map<string, Map<string, number>>();

  constructor(
    private readonly limitFor: (job: string) => number,
    private readonly idleMs = PUSH_SERIES_IDLE_MS,
  ) {}

  apply(batch: MetricsBatchV1, nowMs: number): GuardResult {
    const limit = this.limitFor(batch.target.job);
    if (limit <= 0) return { batch, dropped: 0 };
    const tk = `${batch.target.job}\u0000${batch.target.instance}`;
    let known = this.targets.get(tk);
    if (known === undefined) {
      if (this.targets.size >= MAX_TARGETS) this.targets.delete(this.targets.keys().next().value!);
      known = new Map();
    } else this.targets.delete(tk); // re-inserted below: the map's order is recency
    this.targets.set(tk, known);
    const keep: boolean[] = [];
    let evicted = false;
    for (const s of batch.series) {
      const key = labelsKey(s.labels);
      if (known.has(key)) {
        known.set(key, nowMs);
        keep.push(true);
        continue;
      }
      if (known.size >= limit && !evicted) {
        evicted = true;
        for (const [k, seen] of known) if (nowMs - seen > this.idleMs) known.delete(k);
      }
      if (known.size < limit) {
        known.set(key, nowMs);
        keep.push(true);
      } else keep.push(false);
    }
    const dropped = keep.filter((k) => !k).length;
    if (dropped === 0) return { batch, dropped };
    return { batch: withSeries(batch, keep), dropped };
  }
}

/** The batch without the series `keep` says no to; exemplars follow their series' new index. */
function withSeries(batch: MetricsBatchV1, keep: readonly boolean[]): MetricsBatchV1 {
  const index: number[] = [];
  let n = 0;
  for (const k of keep) index.push(k ? n++ : -1);
  const exemplars: MetricsBatchExemplar[] = [];
  for (const e of batch.exemplars ?? []) if (index[e.series]! >= 0) exemplars.push({ ...e, series: index[e.series]! });
  const { exemplars: _old, ...rest } = batch;
  return { ...rest, series: batch.series.filter((_, i) => keep[i]), ...(exemplars.length > 0 ? { exemplars } : {}) };
}
