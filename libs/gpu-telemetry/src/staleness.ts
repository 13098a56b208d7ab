/**
 * Prometheus staleness for a producer that is not a scraper: a series that was in a target's
 * previous batch and is not in this one gets a staleness marker, so PromQL stops returning it at
 * once instead of for the 5-minute lookback (a GPU that fell off the bus, a MIG slice destroyed).
 *
 * Only families present in the current batch are compared: the agent sends some families less
 * often than every interval (NVLink counters every 10 s), and their absence in between is not a
 * disappearance. When the whole reading failed (`everything`), every series seen before is stale.
 */
export type SeriesLabels = Readonly<Record<string, string>>;

/** The identity of a label set whatever the order of its labels. */
export function seriesKey(labels: SeriesLabels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');
}

export class StalenessTracker {
  private readonly families = new Map<string, Map<string, SeriesLabels>>();

  /**
   * Records this batch's series and returns the label sets to mark stale in it. `key`, when given,
   * is the caller's canonical identity of the label set (the agent keeps one per series between
   * intervals), so it is not worked out again here.
   */
  update(
    current: ReadonlyArray<{ labels: SeriesLabels; key?: string }>,
    opts: { everything?: boolean } = {},
  ): SeriesLabels[] {
    const now = new Map<string, Map<string, SeriesLabels>>();
    for (const s of current) {
      const name = s.labels.__name__ ?? '';
      let fam = now.get(name);
      if (!fam) now.set(name, (fam = new Map()));
      fam.set(s.key ?? seriesKey(s.labels), s.labels);
    }
    const stale: SeriesLabels[] = [];
    for (const [name, before] of this.families) {
      const after = now.get(name);
      if (!after && !opts.everything) continue;
      for (const [k, labels] of before) if (!after?.has(k)) stale.push(labels);
      if (!after) this.families.delete(name);
    }
    for (const [name, fam] of now) this.families.set(name, fam);
    return stale;
  }
}
