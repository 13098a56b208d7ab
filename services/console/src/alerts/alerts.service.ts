import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { Principal } from '@arcwatch/access';
import { InjectClock, type Clock } from '@arcwatch/runtime';
import { ConsoleError } from '../errors';
import { unavailable } from '../instances/instances.service';
import { UpstreamClient } from '../upstream/upstream.client';
import { scopedMatchers, visibleAlert, visibleSilence, type SilenceMatcher } from './alerts';

const amAlertSchema = z.looseObject({
  fingerprint: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()).optional(),
  startsAt: z.string(),
  status: z.object({ state: z.string(), silencedBy: z.array(z.string()).optional() }).optional(),
});
const ruleAlertsSchema = z.object({
  data: z.object({ alerts: z.array(z.looseObject({ labels: z.record(z.string(), z.string()), state: z.string() })) }),
});
const silenceSchema = z.looseObject({
  id: z.string(),
  matchers: z.array(
    z.object({ name: z.string(), value: z.string(), isRegex: z.boolean(), isEqual: z.boolean().optional() }),
  ),
  status: z.object({ state: z.string() }),
});
const escalationSchema = z.object({
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  escalation: z.unknown(),
});

const notificationSchema = z.object({
  id: z.number(),
  createdAt: z.string(),
  finishedAt: z.string().nullable().optional(),
  receiver: z.string(),
  channel: z.string(),
  integration: z.string(),
  status: z.string(),
  alertStatus: z.string(),
  fingerprints: z.array(z.string()),
  attempts: z.number(),
  lastError: z.string().nullable().optional(),
  escalation: z.object({ policy: z.string(), level: z.number(), cycle: z.number() }).nullable().optional(),
});

/** Escalation look-ups per list: the notifier answers one alert per call. */
const MAX_ESCALATION_LOOKUPS = 200;

@Injectable()
export class AlertsService {
  constructor(
    private readonly upstream: UpstreamClient,
    @InjectClock() private readonly clock: Clock,
  ) {}

  /** Firing / suppressed alerts with acknowledgement (notifier), pending and firing rule alerts (anomaly), silences. */
  async list(p: Principal) {
    const [notified, rules, silences] = await Promise.all([
      this.notified(p).catch((err: unknown) => unavailable(err, 'notifier')),
      this.ruleAlerts(p).catch((err: unknown) => unavailable(err, 'anomaly')),
      this.silences(p).catch((err: unknown) => unavailable(err, 'notifier')),
    ]);
    return { alerts: notified, rules, silences };
  }

  private async notified(p: Principal) {
    const body = z.array(amAlertSchema).safeParse(await this.upstream.get<unknown>('notifier', 'api/v2/alerts'));
    if (!body.success)
      throw new ConsoleError('UPSTREAM_UNAVAILABLE', 'notifier: unexpected alerts body', {
        details: { service: 'notifier' },
        expose: true,
      });
    const visible = body.data.filter((a) => visibleAlert(p, a.labels));
    const items = await Promise.all(
      visible.map(async (a, i) => {
        const esc =
          i < MAX_ESCALATION_LOOKUPS
            ? await this.upstream.call<unknown>(
                'notifier',
                'GET',
                `api/v1/alerts/${encodeURIComponent(a.fingerprint)}/escalation`,
              )
            : undefined;
        const e = esc?.ok ? escalationSchema.safeParse(esc.data) : undefined;
        const ack =
          e?.success && e.data.acknowledgedAt ? { by: e.data.acknowledgedBy, at: e.data.acknowledgedAt } : null;
        const state = ack ? 'acknowledged' : a.status?.state === 'suppressed' ? 'silenced' : 'firing';
        return { ...a, state, acknowledged: ack, escalation: e?.success ? e.data.escalation : null };
      }),
    );
    return { items };
  }

  /**
   * The notification log, newest first (up to 1,000): what was sent, to which receiver, how it
   * went. Unscoped tokens only: an entry can group several tenants' alerts.
   */
  async history() {
    const body = z
      .array(notificationSchema)
      .safeParse(await this.upstream.get<unknown>('notifier', 'api/v1/notifications', { limit: 1000 }));
    if (!body.success)
      throw new ConsoleError('UPSTREAM_UNAVAILABLE', 'notifier: unexpected notifications body', {
        details: { service: 'notifier' },
        expose: true,
      });
    return {
      items: body.data.map((n) => ({
        id: n.id,
        createdAt: n.createdAt,
        finishedAt: n.finishedAt ?? null,
        receiver: n.receiver,
        channel: n.channel,
        integration: n.integration,
        status: n.status,
        alertStatus: n.alertStatus,
        alerts: n.fingerprints.length,
        attempts: n.attempts,
        lastError: n.lastError ?? null,
        escalation: n.escalation ?? null,
      })),
    };
  }

  private async ruleAlerts(p: Principal) {
    const body = ruleAlertsSchema.safeParse(await this.upstream.get<unknown>('anomaly', 'api/v1/alerts'));
    if (!body.success)
      throw new ConsoleError('UPSTREAM_UNAVAILABLE', 'anomaly: unexpected alerts body', {
        details: { service: 'anomaly' },
        expose: true,
      });
    return { items: body.data.data.alerts.filter((a) => visibleAlert(p, a.labels)) };
  }

  private async silences(p: Principal) {
    const body = z.array(silenceSchema).safeParse(await this.upstream.get<unknown>('notifier', 'api/v2/silences'));
    if (!body.success)
      throw new ConsoleError('UPSTREAM_UNAVAILABLE', 'notifier: unexpected silences body', {
        details: { service: 'notifier' },
        expose: true,
      });
    return { items: body.data.filter((s) => s.status.state !== 'expired' && visibleSilence(p, s.matchers)) };
  }

  async acknowledge(p: Principal, fingerprint: string, comment: string) {
    await this.visibleOrNotFound(p, fingerprint);
    const r = await this.upstream.post<{ escalation?: unknown }>(
      'notifier',
      `api/v1/alerts/${encodeURIComponent(fingerprint)}/acknowledge`,
      { by: p.name, comment },
    );
    // The notifier records an acknowledgement only for an alert an escalation policy escalates.
    if (r.escalation === null || r.escalation === undefined) {
      throw new ConsoleError(
        'CONFLICT',
        'the notifier has no escalation for this alert, so there is nothing to acknowledge: add an escalation policy that matches it, or silence it',
      );
    }
    return r;
  }

  async silence(p: Principal, matchers: SilenceMatcher[], durationMinutes: number, comment: string) {
    const now = this.clock.now();
    return this.upstream.post<{ silenceID: string }>('notifier', 'api/v2/silences', {
      matchers: scopedMatchers(p, matchers),
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + durationMinutes * 60_000).toISOString(),
      createdBy: p.name,
      comment,
    });
  }

  /** Another tenant's alert answers like a missing one. */
  private async visibleOrNotFound(p: Principal, fingerprint: string): Promise<void> {
    const all = z.array(amAlertSchema).safeParse(await this.upstream.get<unknown>('notifier', 'api/v2/alerts'));
    const hit = all.success ? all.data.find((a) => a.fingerprint === fingerprint) : undefined;
    if (!hit || !visibleAlert(p, hit.labels)) throw new ConsoleError('NOT_FOUND', `no alert ${fingerprint}`);
  }
}
