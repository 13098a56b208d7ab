import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { matchesLabels, severityOf, type EscalationPolicy, type Integration } from '@arcwatch/alertmanager';
import {
  ALERT_ACKNOWLEDGED_V1,
  alertAcknowledgedV1Schema,
  alertSubject,
  cloudEvent,
  deterministicId,
} from '@arcwatch/contracts';
import { enqueueOutbox, OutboxRelay } from '@arcwatch/outbox';
import { InjectClock, InjectPool, type Clock } from '@arcwatch/runtime';
import { AlertsRepository, type StoredAlert } from '../alerts/alerts.repository';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';
import { AlertContextService } from '../context/alert-context.service';
import { DeliveryService, type DeliveryRequest } from '../delivery/delivery.service';
import type { NotificationRecord } from '../delivery/notification-log.repository';
import type { Notification } from '../delivery/payloads';
import { NotifierError } from '../errors';
import { NotifierMetrics } from '../metrics';
import { ROUTING_CONFIG, type RoutingConfig } from '../routing/routing-config';
import {
  acknowledge,
  due,
  resolve,
  start,
  type Decision,
  type EscalationState,
  type Timer,
} from './escalation.decider';
import { EscalationQueue } from './escalation.queue';
import { EscalationRepository } from './escalation.repository';

const isFiring = (a: StoredAlert | undefined, now: Date): boolean =>
  a !== undefined && (a.endsAt === null || a.endsAt.getTime() > now.getTime());

/** The escalation's own group key: one PagerDuty incident (dedup_key) per alert episode. */
export const escalationGroupKey = (s: Pick<EscalationState, 'fingerprint' | 'episode'>): string =>
  `escalation:${s.fingerprint}:${s.episode}`;

/**
 * Runs escalation policies: starts them when a matching alert fires, pages a level when its timer
 * fires (after re-reading the alert), stops on acknowledgement or resolution. Each step locks the
 * alert's state row, decides with the pure decider, saves the new state and records the pages it
 * will send in the same transaction; pages are sent after commit and timers armed last, so a
 * crash anywhere leaves either nothing done or a recorded page that start-up resends, and a
 * missing timer that the reconciler re-creates from the saved state.
 */
@Injectable()
export class EscalationService {
  private readonly logger = new Logger(EscalationService.name);

  constructor(
    @InjectPool() private readonly pool: Pool,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    @Inject(ROUTING_CONFIG) private readonly routing: RoutingConfig,
    @InjectClock() private readonly clock: Clock,
    private readonly repo: EscalationRepository,
    private readonly alerts: AlertsRepository,
    private readonly delivery: DeliveryService,
    private readonly queue: EscalationQueue,
    private readonly relay: OutboxRelay,
    private readonly metrics: NotifierMetrics,
    private readonly context: AlertContextService,
  ) {}

  policyFor(labels: Record<string, string>): EscalationPolicy | undefined {
    return this.routing.arcwatch.escalationPolicies.find((p) => matchesLabels(p.matchers, labels));
  }

  private policyNamed(name: string): EscalationPolicy | undefined {
    return this.routing.arcwatch.escalationPolicies.find((p) => p.name === name);
  }

  /** Alerts seen changing (or time passing): start escalations for new firing episodes, resolve finished ones. */
  async observe(alerts: readonly StoredAlert[]): Promise<void> {
    const now = new Date(this.clock.now());
    for (const a of alerts) {
      const policy = this.policyFor(a.labels);
      const prev = await this.repo.get(a.fingerprint);
      const firing = isFiring(a, now);
      if (firing && policy && (!prev || prev.episode !== a.startsAt.toISOString() || prev.status === 'resolved')) {
        if (prev && prev.episode === a.startsAt.toISOString()) continue;
        await this.step(
          a.fingerprint,
          (s) => start(s, a.fingerprint, a.startsAt.toISOString(), policy, now),
          'started',
        );
      } else if (!firing && prev && prev.status !== 'resolved') {
        const p = this.policyNamed(prev.policy);
        if (p) await this.step(a.fingerprint, (s) => (s ? resolve(s, p) : undefined), 'resolved');
      }
    }
  }

  /** Running escalations whose alert stopped firing by time (endsAt passed without a refresh). */
  async sweep(): Promise<void> {
    const now = new Date(this.clock.now());
    for (const s of await this.repo.running()) {
      const alert = await this.alerts.get(s.fingerprint);
      if (isFiring(alert, now)) continue;
      const p = this.policyNamed(s.policy);
      if (p) await this.step(s.fingerprint, (cur) => (cur ? resolve(cur, p) : undefined), 'resolved');
    }
  }

  /** A timer fired (BullMQ job); stale and duplicated timers decide nothing. */
  async onTimer(t: Timer): Promise<void> {
    await this.step(
      t.fingerprint,
      (s, alert) => {
        if (!s) return undefined;
        const p = this.policyNamed(s.policy);
        return p ? due(s, t, p, isFiring(alert, new Date(this.clock.now())), new Date(this.clock.now())) : undefined;
      },
      'timer',
    );
  }

  async acknowledge(fingerprint: string, by: string, comment: string): Promise<EscalationState | undefined> {
    const now = new Date(this.clock.now());
    const alert = await this.alerts.get(fingerprint);
    if (!alert) throw new NotifierError('ALERT_NOT_FOUND', `no alert with fingerprint ${fingerprint}`);
    if (!isFiring(alert, now)) throw new NotifierError('ACK_INVALID', `alert ${fingerprint} is not firing`);
    return this.step(
      fingerprint,
      (s) => {
        const p = s ? this.policyNamed(s.policy) : undefined;
        return s && p ? acknowledge(s, p, now) : undefined;
      },
      'acknowledged',
      async (db, alertNow) => {
        await this.alerts.acknowledge(fingerprint, by, comment, now, db);
        const data = alertAcknowledgedV1Schema.parse({
          fingerprint,
          labels: alertNow.labels,
          startsAt: alertNow.startsAt.toISOString(),
          acknowledgedAt: now.toISOString(),
          by,
          comment,
        });
        await enqueueOutbox(db, this.config.dbSchema, [
          {
            subject: alertSubject('acknowledged', alertNow.labels),
            event: cloudEvent({
              type: ALERT_ACKNOWLEDGED_V1,
              source: 'arcwatch/notifier',
              id: deterministicId(ALERT_ACKNOWLEDGED_V1, fingerprint, Date.parse(data.startsAt)),
              subject: fingerprint,
              data,
              time: now,
            }),
          },
        ]);
      },
    );
  }

  state(fingerprint: string): Promise<EscalationState | undefined> {
    return this.repo.get(fingerprint);
  }

  private async step(
    fingerprint: string,
    decide: (s: EscalationState | undefined, alert: StoredAlert | undefined) => Decision | undefined,
    event: string,
    alsoInTx?: (db: PoolClient, alert: StoredAlert) => Promise<void>,
  ): Promise<EscalationState | undefined> {
    const client = await this.pool.connect();
    let decision: Decision | undefined;
    let claimed: { record: NotificationRecord; integration: Integration }[] = [];
    try {
      await client.query('BEGIN');
      // The row may not exist yet (first start): take an advisory lock on the fingerprint instead.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${this.config.dbSchema}:esc:${fingerprint}`]);
      const prev = await this.repo.lock(client, fingerprint);
      const alert = await this.alerts.get(fingerprint, client);
      decision = decide(prev, alert);
      if (decision && alert) {
        await this.repo.save(client, decision.state, new Date(this.clock.now()));
        claimed = await this.claimActions(client, decision, alert);
        if (alsoInTx) await alsoInTx(client, alert);
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
    if (!decision) return undefined;
    if (decision.actions.length > 0) this.metrics.escalations.inc({ event });
    for (const c of claimed) await this.delivery.complete(c.record, c.integration, undefined);
    const now = new Date(this.clock.now());
    for (const a of decision.actions) if (a.kind === 'schedule') await this.queue.arm(a.timer, new Date(a.at), now);
    void this.relay.flush().catch((err: unknown) => this.logger.warn(`outbox relay: ${(err as Error).message}`));
    return decision.state;
  }

  private async claimActions(
    db: PoolClient,
    d: Decision,
    alert: StoredAlert,
  ): Promise<{ record: NotificationRecord; integration: Integration }[]> {
    const out: { record: NotificationRecord; integration: Integration }[] = [];
    const policy = this.policyNamed(d.state.policy);
    if (!policy) return out;
    const now = new Date(this.clock.now());
    for (const a of d.actions) {
      if (a.kind === 'schedule') continue;
      const resolved = a.kind === 'resolve';
      const notification: Notification = {
        receiver: '',
        groupKey: escalationGroupKey(d.state),
        groupLabels: { alertname: alert.labels.alertname ?? '' },
        externalURL: this.config.externalUrl,
        alerts: [
          {
            status: resolved ? 'resolved' : 'firing',
            labels: alert.labels,
            annotations: { ...alert.annotations, ...this.context.annotations(alert) },
            startsAt: alert.startsAt,
            endsAt: resolved ? (alert.endsAt ?? now) : null,
            generatorURL: alert.generatorURL,
            fingerprint: alert.fingerprint,
          },
        ],
      };
      const levels = policy.levels.length;
      const sequence =
        a.kind === 'page'
          ? a.cycle * levels + a.level
          : a.kind === 'acknowledge'
            ? 10_000 + d.state.epoch
            : 20_000 + d.state.epoch;
      for (const target of a.targets) {
        const receiver = this.routing.am.receivers.find((r) => r.name === target);
        if (!receiver) continue;
        for (const integration of receiver.integrations) {
          // Only PagerDuty has an acknowledge; the other channels hear about pages and the end.
          if (a.kind === 'acknowledge' && integration.kind !== 'pagerduty') continue;
          const req: DeliveryRequest = {
            groupKey: notification.groupKey,
            receiver: target,
            integration,
            notification: { ...notification, receiver: target },
            sequence,
            escalation: {
              policy: policy.name,
              level: a.kind === 'page' ? a.level : Math.max(1, d.state.lastPaged + 1),
              cycle: a.kind === 'page' ? a.cycle : d.state.cycle,
            },
            pagerdutyAction: a.kind === 'page' ? 'trigger' : a.kind,
            severity: severityOf(alert.labels, this.routing.arcwatch.severity),
          };
          const { record } = await this.delivery.prepare(db, req);
          out.push({ record, integration });
        }
      }
    }
    return out;
  }
}
