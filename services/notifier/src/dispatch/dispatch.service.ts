import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  containsTime,
  inhibitedBy,
  matchRoutes,
  severityOf,
  silencedBy,
  type AlertmanagerConfig,
  type InhibitionSource,
  type Integration,
} from '@arcwatch/alertmanager';
import { InjectClock, type Clock, type TimerHandle } from '@arcwatch/runtime';
import { AlertsRepository, type StoredAlert } from '../alerts/alerts.repository';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';
import { AlertContextService } from '../context/alert-context.service';
import { DeliveryService } from '../delivery/delivery.service';
import type { NotificationRecord } from '../delivery/notification-log.repository';
import { NotificationLogRepository } from '../delivery/notification-log.repository';
import type { Notification } from '../delivery/payloads';
import { EscalationService } from '../escalation/escalation.service';
import { NotifierMetrics } from '../metrics';
import { ROUTING_CONFIG, type RoutingConfig } from '../routing/routing-config';
import { SilencesService } from '../silences/silences.service';
import { DispatchLeaseRepository } from './dispatch-lease.repository';
import {
  AggregationGroups,
  isResolved,
  needsUpdate,
  type AggregationGroup,
  type DispatchAlert,
} from './dispatch.decider';

const toDispatch = (a: StoredAlert): DispatchAlert => ({
  fingerprint: a.fingerprint,
  labels: a.labels,
  annotations: a.annotations,
  startsAt: a.startsAt,
  endsAt: a.endsAt,
  generatorURL: a.generatorURL,
});

/**
 * How far back each pass reads alert changes again. An alert's updated_at is its API process's
 * clock when the request came in, and the row commits later: with several API processes (or
 * concurrent requests) a change stamped before the newest one already read can commit after it.
 */
const CHANGE_OVERLAP_MS = 10_000;

export interface AlertStatusView {
  state: 'active' | 'suppressed' | 'unprocessed';
  silencedBy: string[];
  inhibitedBy: string[];
}

/**
 * The dispatcher loop (worker role): picks up alert changes from PostgreSQL (so API processes can
 * run apart), keeps the aggregation groups, and on each due flush asks the notification log which
 * integrations need to hear about the group; muted alerts (silences, inhibition, mute / active
 * time intervals) are left out, as in Alertmanager. Of several workers, the one holding the
 * dispatch lease runs the loop; the others stand by (their escalation processors still share the
 * queue) and the first to get the lease after the holder is gone starts from the stored alerts,
 * the notification log keeping it from resending what was already sent.
 */
@Injectable()
export class DispatchService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DispatchService.name);
  private groups: AggregationGroups;
  /** The route tree the groups were built from; an applied routing file replaces it. */
  private routedBy: AlertmanagerConfig;
  private readonly alerts = new Map<string, StoredAlert>();
  private lastSeen = new Date(0);
  /** updated_at (ms) of the changes read within the overlap, so that reading them again skips them. */
  private readonly seen = new Map<string, number>();
  private lastGc = 0;
  private handle: TimerHandle | undefined;
  private ticking: Promise<void> | undefined;
  private readonly flushing = new Map<string, Promise<void>>();

  constructor(
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    @Inject(ROUTING_CONFIG) private readonly routing: RoutingConfig,
    @InjectClock() private readonly clock: Clock,
    private readonly repo: AlertsRepository,
    private readonly silences: SilencesService,
    private readonly delivery: DeliveryService,
    private readonly log: NotificationLogRepository,
    private readonly escalations: EscalationService,
    private readonly metrics: NotifierMetrics,
    private readonly context: AlertContextService,
    private readonly lease: DispatchLeaseRepository,
  ) {
    this.groups = new AggregationGroups(routing.am);
    this.routedBy = routing.am;
  }

  async onApplicationBootstrap(): Promise<void> {
    // An API-only process answers from the store; the worker process dispatches.
    if (this.config.role === 'api') return;
    await this.lead();
    this.handle = this.clock.setInterval(() => void this.tick(), this.config.tickMs);
  }

  async onModuleDestroy(): Promise<void> {
    this.clock.clearInterval(this.handle);
    await this.ticking;
    await Promise.all(this.flushing.values());
    this.lease.release();
  }

  /** Whether this process dispatches now; taking the lease over starts from what PostgreSQL holds. */
  private async lead(): Promise<boolean> {
    if (this.lease.holding) return true;
    if (!(await this.lease.acquire())) return false;
    // Held before by another worker (or by this one before its connection dropped): its view is stale.
    this.alerts.clear();
    this.groups = new AggregationGroups(this.routing.am);
    this.routedBy = this.routing.am;
    this.lastSeen = new Date(0);
    this.seen.clear();
    // Whatever the previous holder (or a crash) left recorded but unsent goes out first, with its stored body.
    const resent = await this.delivery.resendPending((r) => this.integrationOf(r));
    if (resent > 0) this.logger.log(`sent again ${resent} notification(s) left pending, with their keys and bodies`);
    return true;
  }

  integrationOf(r: Pick<NotificationRecord, 'receiver' | 'integration'>): Integration | undefined {
    const [kind, idx] = r.integration.split('/');
    return this.routing.am.receivers
      .find((x) => x.name === r.receiver)
      ?.integrations.find((i) => i.kind === kind && i.index === Number(idx));
  }

  /** One pass: new alert states in, escalations observed, due groups flushed. Concurrent calls share one pass. */
  tick(): Promise<void> {
    this.ticking ??= this.pass()
      .catch((e: unknown) => this.logger.error(`dispatch pass: ${(e as Error).message}`))
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async pass(): Promise<void> {
    if (!(await this.lead())) return;
    const now = new Date(this.clock.now());
    await this.silences.load();
    if (this.routing.am !== this.routedBy) {
      // New routes: regroup the alerts held; the notification log keeps a group that did not change from resending.
      this.routedBy = this.routing.am;
      this.groups = new AggregationGroups(this.routing.am);
      for (const a of this.alerts.values()) this.groups.insert(toDispatch(a), now);
    }
    const changed = (await this.repo.changedSince(new Date(this.lastSeen.getTime() - CHANGE_OVERLAP_MS))).filter(
      (a) => this.seen.get(a.fingerprint) !== a.updatedAt.getTime(),
    );
    for (const a of changed) {
      this.seen.set(a.fingerprint, a.updatedAt.getTime());
      this.alerts.set(a.fingerprint, a);
      if (a.updatedAt > this.lastSeen) this.lastSeen = a.updatedAt;
      this.groups.insert(toDispatch(a), now);
      if (!isResolved(a, now)) this.context.prefetch(a);
    }
    for (const [fp, at] of this.seen) if (at < this.lastSeen.getTime() - CHANGE_OVERLAP_MS) this.seen.delete(fp);
    if (changed.length > 0) await this.escalations.observe(changed);
    await this.escalations.sweep();
    for (const g of this.groups.due(now)) {
      if (this.flushing.has(g.key)) continue;
      const p = this.flush(g, now)
        .catch((e: unknown) => this.logger.error(`flush ${g.key}: ${(e as Error).message}`))
        .finally(() => this.flushing.delete(g.key));
      this.flushing.set(g.key, p);
    }
    // Resolved alerts leave the store after Alertmanager's default retention (120 h).
    if (now.getTime() - this.lastGc > 60_000) {
      this.lastGc = now.getTime();
      await this.repo.gc(new Date(now.getTime() - 120 * 3_600_000));
    }
    this.metrics.activeAlerts.set(this.alerts.size);
    this.metrics.groups.set(this.groups.all().length);
  }

  /** Waits for the flushes under way (tests). */
  async settle(): Promise<void> {
    await this.tick();
    await Promise.all(this.flushing.values());
  }

  /** The alerts inhibition looks at; compute once per pass or request, not per alert. */
  inhibitionPool(now: Date, alerts: Iterable<StoredAlert> = this.alerts.values()): InhibitionSource[] {
    if (this.routing.am.inhibitRules.length === 0) return [];
    return [...alerts].map((x) => ({ labels: x.labels, resolved: isResolved(x, now) }));
  }

  status(a: StoredAlert, now: Date, pool: InhibitionSource[] = this.inhibitionPool(now)): AlertStatusView {
    const silenced = silencedBy(this.silences.cached(), a.labels, now);
    const inhibited =
      this.routing.am.inhibitRules.length === 0
        ? []
        : inhibitedBy(this.routing.am.inhibitRules, a.labels, pool).inhibitedBy;
    return {
      state: silenced.length > 0 || inhibited.length > 0 ? 'suppressed' : 'active',
      silencedBy: silenced,
      inhibitedBy: inhibited,
    };
  }

  private muted(g: AggregationGroup, now: Date): boolean {
    const named = (names: string[]): boolean =>
      names.some((n) => (this.routing.am.timeIntervals.get(n) ?? []).some((ti) => containsTime(ti, now)));
    if (g.route.opts.muteTimeIntervals.length > 0 && named(g.route.opts.muteTimeIntervals)) return true;
    return g.route.opts.activeTimeIntervals.length > 0 && !named(g.route.opts.activeTimeIntervals);
  }

  private async flush(g: AggregationGroup, now: Date): Promise<void> {
    const all = [...g.fingerprints].map((fp) => this.alerts.get(fp)).filter((a): a is StoredAlert => a !== undefined);
    const resolvedFps = all.filter((a) => isResolved(a, now)).map((a) => a.fingerprint);
    const pool = this.inhibitionPool(now);
    const visible = all.filter((a) => isResolved(a, now) || this.status(a, now, pool).state === 'active');
    const receiver = this.routing.am.receivers.find((r) => r.name === g.receiver);
    if (receiver && !this.muted(g, now)) {
      const firing = visible
        .filter((a) => !isResolved(a, now))
        .map((a) => a.fingerprint)
        .sort();
      const resolved = visible
        .filter((a) => isResolved(a, now))
        .map((a) => a.fingerprint)
        .sort();
      for (const integration of receiver.integrations) {
        const name = `${integration.kind}/${integration.index}`;
        const sendResolved = integration.config.send_resolved === true;
        const entry = await this.log.lastNotified(g.key, g.receiver, name);
        if (!needsUpdate(entry, firing, resolved, sendResolved, g.route.opts.repeatIntervalMs, now)) continue;
        const shown = visible.filter((a) => !isResolved(a, now) || sendResolved);
        const sequence = (await this.log.lastSequence(g.key, g.receiver, name)) + 1;
        const nflog = { sequence, firing, resolved, at: now };
        if (shown.length === 0) {
          // Nothing to show this integration (all resolved, no send_resolved): the log still forgets the firing set.
          await this.log.rememberDirect(g.key, g.receiver, name, nflog);
          continue;
        }
        const notification: Notification = {
          receiver: g.receiver,
          groupKey: g.key,
          groupLabels: g.labels,
          externalURL: this.config.externalUrl,
          alerts: shown.map((a) => ({
            status: isResolved(a, now) ? 'resolved' : 'firing',
            labels: a.labels,
            annotations: { ...a.annotations, ...this.context.annotations(a) },
            startsAt: a.startsAt,
            endsAt: isResolved(a, now) ? a.endsAt : null,
            generatorURL: a.generatorURL,
            fingerprint: a.fingerprint,
          })),
        };
        const severity = severityOf(shown[0].labels, this.routing.arcwatch.severity);
        await this.delivery.deliver({
          groupKey: g.key,
          receiver: g.receiver,
          integration,
          notification,
          sequence,
          nflog,
          severity,
        });
      }
    }
    this.groups.flushed(g.key, now, resolvedFps);
    for (const fp of resolvedFps) if (!this.groups.all().some((x) => x.fingerprints.has(fp))) this.alerts.delete(fp);
  }

  /**
   * Alertmanager's /api/v2/alerts/groups view: the dispatcher's groups, or in an API-only process
   * the groups the stored alerts form now.
   */
  async groupsView(): Promise<
    { key: string; receiver: string; labels: Record<string, string>; alerts: StoredAlert[] }[]
  > {
    // A process that does not dispatch (API role, or a worker standing by) answers from the store.
    if (this.config.role === 'api' || !this.lease.holding) {
      const now = new Date(this.clock.now());
      const fresh = new AggregationGroups(this.routing.am);
      const byFp = new Map<string, StoredAlert>();
      for (const a of await this.repo.all()) {
        byFp.set(a.fingerprint, a);
        fresh.insert(toDispatch(a), now);
      }
      return fresh.all().map((g) => ({
        key: g.key,
        receiver: g.receiver,
        labels: g.labels,
        alerts: [...g.fingerprints].map((fp) => byFp.get(fp) as StoredAlert),
      }));
    }
    return this.groups.all().map((g) => ({
      key: g.key,
      receiver: g.receiver,
      labels: g.labels,
      alerts: [...g.fingerprints].map((fp) => this.alerts.get(fp)).filter((a): a is StoredAlert => a !== undefined),
    }));
  }

  receiversOf(labels: Record<string, string>): string[] {
    return [...new Set(matchRoutes(this.groups.root, labels).map((r) => r.opts.receiver))];
  }
}
