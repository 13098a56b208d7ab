import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { isValidLabelName, isWellFormed } from '@arcwatch/alertmanager';
import { alertFingerprint, type AlertV1 } from '@arcwatch/contracts';
import { InjectClock, type Clock } from '@arcwatch/runtime';
import { NotifierError } from '../errors';
import { NotifierMetrics } from '../metrics';
import { ROUTING_CONFIG, type RoutingConfig } from '../routing/routing-config';
import { AlertsRepository, type StoredAlert } from './alerts.repository';

const labelSet = z.record(z.string(), z.string());
const optionalTime = z.preprocess(
  (v) => (v === '' || v === null ? undefined : v),
  z.iso.datetime({ offset: true }).optional(),
);

/** Alertmanager API v2 PostableAlert (what Prometheus sends). */
export const postableAlertSchema = z.object({
  labels: labelSet,
  annotations: labelSet.optional(),
  startsAt: optionalTime,
  endsAt: optionalTime,
  generatorURL: z.string().optional(),
});
export const postableAlertsSchema = z.array(postableAlertSchema);
export type PostableAlert = z.infer<typeof postableAlertSchema>;

/** An Alertmanager webhook body (version 4): an existing Alertmanager hands its alerts over. */
export const webhookV4Schema = z.object({
  version: z.string(),
  alerts: z.array(
    z.object({
      status: z.enum(['firing', 'resolved']),
      labels: labelSet,
      annotations: labelSet.default({}),
      // RFC 3339 as Alertmanager writes them (a firing alert's endsAt is Go's zero time).
      startsAt: z.iso.datetime({ offset: true }),
      endsAt: z.iso.datetime({ offset: true }),
      generatorURL: z.string().default(''),
    }),
  ),
});

const GO_ZERO = /^0001-01-01T00:00:00/;

/** Alerts in from the three doors; stored with Alertmanager's merge rules; the dispatcher picks them up. */
@Injectable()
export class AlertsService {
  constructor(
    private readonly repo: AlertsRepository,
    @Inject(ROUTING_CONFIG) private readonly routing: RoutingConfig,
    @InjectClock() private readonly clock: Clock,
    private readonly metrics: NotifierMetrics,
  ) {}

  /** POST /api/v2/alerts: as Alertmanager, a missing endsAt means "firing for resolve_timeout from now". */
  async post(body: unknown): Promise<void> {
    const parsed = postableAlertsSchema.safeParse(body);
    if (!parsed.success)
      throw new NotifierError(
        'ALERTS_INVALID',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    const now = new Date(this.clock.now());
    const resolveTimeout = Number(this.routing.am.global.resolve_timeout ?? 300_000);
    const alerts = parsed.data.map((p) => {
      const endsAt =
        p.endsAt && !GO_ZERO.test(p.endsAt) ? new Date(p.endsAt) : new Date(now.getTime() + resolveTimeout);
      const startsAt = p.startsAt && !GO_ZERO.test(p.startsAt) ? new Date(p.startsAt) : p.endsAt ? endsAt : now;
      return this.validated(
        { labels: p.labels, annotations: p.annotations ?? {}, startsAt, endsAt, generatorURL: p.generatorURL ?? '' },
        now,
        'api',
      );
    });
    await this.store(alerts, 'api');
  }

  /** An Alertmanager webhook body: its alerts as they were, with their own end times. */
  async webhook(body: unknown): Promise<number> {
    const parsed = webhookV4Schema.safeParse(body);
    if (!parsed.success)
      throw new NotifierError(
        'ALERTS_INVALID',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    const now = new Date(this.clock.now());
    const alerts = parsed.data.alerts.map((a) =>
      this.validated(
        {
          labels: a.labels,
          annotations: a.annotations,
          startsAt: new Date(a.startsAt),
          endsAt: a.status === 'resolved' && !GO_ZERO.test(a.endsAt) ? new Date(a.endsAt) : null,
          generatorURL: a.generatorURL,
        },
        now,
        'webhook',
      ),
    );
    await this.store(alerts, 'webhook');
    return alerts.length;
  }

  /**
   * ALERT_V1 events from JetStream: resolved carries its end; firing has none, unless it knows
   * when it stops by itself (a budget alert ends with its period), as Alertmanager's endsAt.
   */
  async fromEvents(events: readonly AlertV1[]): Promise<void> {
    const now = new Date(this.clock.now());
    const alerts = events.map((e) =>
      this.validated(
        {
          labels: e.labels,
          annotations: e.annotations,
          startsAt: new Date(e.startsAt),
          endsAt: e.status === 'resolved' ? new Date(e.endsAt ?? now) : e.endsAt === null ? null : new Date(e.endsAt),
          generatorURL: e.generatorURL,
        },
        now,
        'jetstream',
      ),
    );
    await this.store(alerts, 'jetstream');
  }

  private validated(
    a: Pick<StoredAlert, 'labels' | 'annotations' | 'startsAt' | 'endsAt' | 'generatorURL'>,
    now: Date,
    source: string,
  ): Omit<StoredAlert, 'ackedAt' | 'ackedBy' | 'ackComment'> {
    if (Object.keys(a.labels).length === 0)
      throw new NotifierError('ALERTS_INVALID', 'at least one label pair required');
    for (const [k, v] of Object.entries(a.labels)) {
      if (!isValidLabelName(k, 'fallback'))
        throw new NotifierError('ALERTS_INVALID', `invalid label set: invalid name "${k}"`);
      if (!isWellFormed(v)) throw new NotifierError('ALERTS_INVALID', `invalid label set: invalid value "${v}"`);
    }
    // PostgreSQL stores no NUL character (U+0000) in text or jsonb.
    for (const [k, v] of [
      ...Object.entries(a.labels),
      ...Object.entries(a.annotations),
      ['generatorURL', a.generatorURL],
    ])
      if (k.includes('\u0000') || v.includes('\u0000'))
        throw new NotifierError(
          'ALERTS_INVALID',
          `"${k.replace(/\u0000/g, '\\0')}": a NUL character (U+0000) cannot be stored`,
        );
      else if (!isWellFormed(k) || !isWellFormed(v))
        throw new NotifierError(
          'ALERTS_INVALID',
          `"${k}": not well-formed Unicode (a lone surrogate) cannot be stored`,
        );
    if (a.endsAt && a.endsAt.getTime() < a.startsAt.getTime())
      throw new NotifierError('ALERTS_INVALID', 'start time must be before end time');
    return { ...a, fingerprint: alertFingerprint(a.labels), updatedAt: now, source };
  }

  private async store(
    alerts: Omit<StoredAlert, 'ackedAt' | 'ackedBy' | 'ackComment'>[],
    source: string,
  ): Promise<void> {
    await this.repo.upsert(oncePerFingerprint(alerts));
    this.metrics.alertsReceived.inc({ source }, alerts.length);
  }

  all(): Promise<StoredAlert[]> {
    return this.repo.all();
  }

  get(fingerprint: string): Promise<StoredAlert | undefined> {
    return this.repo.get(fingerprint);
  }
}

/**
 * One row per fingerprint: a body may carry the same label set twice, and one INSERT … ON
 * CONFLICT cannot update a row twice. As if they were applied in order: the later one's fields,
 * the earliest start.
 */
export function oncePerFingerprint<A extends { fingerprint: string; startsAt: Date }>(alerts: readonly A[]): A[] {
  const byFingerprint = new Map<string, A>();
  for (const a of alerts) {
    const earlier = byFingerprint.get(a.fingerprint);
    byFingerprint.set(
      a.fingerprint,
      earlier && earlier.startsAt.getTime() < a.startsAt.getTime() ? { ...a, startsAt: earlier.startsAt } : a,
    );
  }
  return [...byFingerprint.values()];
}
