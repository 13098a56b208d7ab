import {
  buildRouteTree,
  groupKey,
  groupLabels,
  matchRoutes,
  type AlertmanagerConfig,
  type LabelSet,
  type Route,
} from '@arcwatch/alertmanager';

/**
 * Alertmanager's dispatching as pure rules over plain data and an explicit `now`: alerts join one
 * aggregation group per matched route; a new group waits group_wait before its first flush, then
 * flushes every group_interval; a flush notifies an integration only when the set of firing
 * alerts grew, everything resolved, a resolved alert is news to a send_resolved integration, or
 * repeat_interval passed since the last notification (Alertmanager's dedup rules).
 */
export interface DispatchAlert {
  fingerprint: string;
  labels: LabelSet;
  annotations: Record<string, string>;
  startsAt: Date;
  /** null while firing with no end in sight. */
  endsAt: Date | null;
  generatorURL: string;
}

export function isResolved(a: Pick<DispatchAlert, 'endsAt'>, now: Date): boolean {
  return a.endsAt !== null && a.endsAt.getTime() <= now.getTime();
}

export interface AggregationGroup {
  key: string;
  route: Route;
  receiver: string;
  labels: Record<string, string>;
  fingerprints: Set<string>;
  nextFlushAt: number;
  hasFlushed: boolean;
}

/** What the notification log remembers of the last notification of a group to one integration. */
export interface NotifiedEntry {
  sequence: number;
  firing: readonly string[];
  resolved: readonly string[];
  at: Date;
}

export function needsUpdate(
  entry: NotifiedEntry | undefined,
  firing: readonly string[],
  resolved: readonly string[],
  sendResolved: boolean,
  repeatIntervalMs: number,
  now: Date,
): boolean {
  if (!entry) return firing.length > 0;
  const wasFiring = new Set(entry.firing);
  if (!firing.every((f) => wasFiring.has(f))) return true;
  // Everything resolved: notify (even without send_resolved) so the log forgets the firing set;
  // if nothing was firing at the last notification either, the receiver never heard of them.
  if (firing.length === 0) return entry.firing.length > 0;
  const wasResolved = new Set(entry.resolved);
  if (sendResolved && !resolved.every((r) => wasResolved.has(r))) return true;
  return entry.at.getTime() < now.getTime() - repeatIntervalMs;
}

export class AggregationGroups {
  private readonly groups = new Map<string, AggregationGroup>();
  readonly root: Route;

  constructor(config: AlertmanagerConfig) {
    this.root = buildRouteTree(config.route);
  }

  /** Adds (or refreshes) an alert in every group its labels route to; returns the group keys. */
  insert(alert: DispatchAlert, now: Date): string[] {
    const keys: string[] = [];
    for (const route of matchRoutes(this.root, alert.labels)) {
      const key = groupKey(route, alert.labels);
      let g = this.groups.get(key);
      if (!g) {
        g = {
          key,
          route,
          receiver: route.opts.receiver,
          labels: groupLabels(route, alert.labels),
          fingerprints: new Set(),
          nextFlushAt: now.getTime() + route.opts.groupWaitMs,
          hasFlushed: false,
        };
        this.groups.set(key, g);
      }
      // An alert that started longer than group_wait ago need not wait: flush at once.
      if (!g.hasFlushed && alert.startsAt.getTime() + route.opts.groupWaitMs <= now.getTime())
        g.nextFlushAt = Math.min(g.nextFlushAt, now.getTime());
      g.fingerprints.add(alert.fingerprint);
      keys.push(key);
    }
    return keys;
  }

  due(now: Date): AggregationGroup[] {
    return [...this.groups.values()]
      .filter((g) => g.nextFlushAt <= now.getTime())
      .sort((a, b) => a.nextFlushAt - b.nextFlushAt);
  }

  /** After a flush: the next one a group_interval later; resolved alerts that were notified leave the group. */
  flushed(key: string, now: Date, removed: Iterable<string>): void {
    const g = this.groups.get(key);
    if (!g) return;
    for (const fp of removed) g.fingerprints.delete(fp);
    g.hasFlushed = true;
    g.nextFlushAt = now.getTime() + g.route.opts.groupIntervalMs;
    if (g.fingerprints.size === 0) this.groups.delete(key);
  }

  get(key: string): AggregationGroup | undefined {
    return this.groups.get(key);
  }

  all(): AggregationGroup[] {
    return [...this.groups.values()];
  }

  /** The earliest pending flush, for the scheduler. */
  nextDue(): number | undefined {
    let min: number | undefined;
    for (const g of this.groups.values()) if (min === undefined || g.nextFlushAt < min) min = g.nextFlushAt;
    return min;
  }
}

/** Labels shared by every alert (Alertmanager's CommonLabels / CommonAnnotations). */
export function commonOf(sets: readonly Record<string, string>[]): Record<string, string> {
  if (sets.length === 0) return {};
  const out: Record<string, string> = { ...sets[0] };
  for (const s of sets.slice(1)) for (const k of Object.keys(out)) if (s[k] !== out[k]) delete out[k];
  return out;
}
