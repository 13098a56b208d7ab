import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { createTransport } from 'nodemailer';
import type { Pool, PoolClient } from 'pg';
import type { Integration } from '@arcwatch/alertmanager';
import {
  cloudEvent,
  NOTIFY_TYPES,
  notifyEventId,
  notifySubject,
  type NotificationV1,
  type NotifyOutcome,
  type Severity,
} from '@arcwatch/contracts';
import { enqueueOutbox, OutboxRelay } from '@arcwatch/outbox';
import { InjectClock, InjectPool, type Clock } from '@arcwatch/runtime';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';
import type { NotifiedEntry } from '../dispatch/dispatch.decider';
import { NotifierMetrics } from '../metrics';
import { ROUTING_CONFIG, type RoutingConfig } from '../routing/routing-config';
import { NotificationLogRepository, type NotificationRecord } from './notification-log.repository';
import {
  emailMessage,
  goJson,
  notificationStatus,
  pagerdutyBody,
  SIGNATURE_HEADER,
  signBody,
  slackBody,
  webhookBody,
  type EmailMessage,
  type Notification,
  type PagerDutyAction,
} from './payloads';
import { decideRetry, type AttemptOutcome, type RetryPolicy } from './retry.decider';

export interface DeliveryRequest {
  groupKey: string;
  receiver: string;
  integration: Integration;
  notification: Notification;
  sequence: number;
  /** Remembered in the notification log on success (routing notifications; not escalation pages). */
  nflog?: NotifiedEntry;
  escalation?: { policy: string; level: number; cycle: number };
  pagerdutyAction?: PagerDutyAction;
  severity?: Severity;
}

export const DELIVERED_CHANNELS = ['webhook', 'slack', 'pagerduty', 'email'] as const;

const integrationName = (i: Integration): string => `${i.kind}/${i.index}`;

/**
 * Sends one notification to one integration: recorded first (so a (group, receiver, integration,
 * sequence) is sent at most once to completion, and a crash leaves a `pending` row that
 * `resendPending` finishes), built once and stored (a resend is the same bytes), retried with
 * backoff that honours 429 Retry-After, and finished in one transaction with its notify event.
 */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);
  private readonly policy: RetryPolicy;
  private readonly inFlight = new Set<number>();

  constructor(
    @InjectPool() private readonly pool: Pool,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    @Inject(ROUTING_CONFIG) private readonly routing: RoutingConfig,
    @InjectClock() private readonly clock: Clock,
    private readonly log: NotificationLogRepository,
    private readonly relay: OutboxRelay,
    private readonly metrics: NotifierMetrics,
  ) {
    this.policy = {
      maxAttempts: config.retryMaxAttempts,
      baseDelayMs: config.retryBaseMs,
      maxDelayMs: config.retryMaxMs,
    };
  }

  build(req: DeliveryRequest): Record<string, unknown> {
    const c = req.integration.config;
    const r = this.routing.renderer;
    switch (req.integration.kind) {
      case 'webhook':
        return webhookBody(req.notification, typeof c.max_alerts === 'number' ? c.max_alerts : 0);
      case 'slack':
        return slackBody(req.notification, c, r);
      case 'pagerduty':
        return pagerdutyBody(
          req.notification,
          c,
          r,
          req.pagerdutyAction ?? (notificationStatus(req.notification) === 'firing' ? 'trigger' : 'resolve'),
          req.severity,
        );
      case 'email':
        return emailMessage(req.notification, c, r) as unknown as Record<string, unknown>;
      default:
        return { unsupported: req.integration.kind };
    }
  }

  async deliver(req: DeliveryRequest): Promise<NotificationRecord> {
    const { record, created } = await this.prepare(this.pool, req);
    // Recorded already: another dispatcher is sending it, or a crash left it for resendPending.
    if (!created) return record;
    return this.complete(record, req.integration, req.nflog);
  }

  /** Records the notification (in the caller's transaction when `db` is its client); sending is `complete`. */
  async prepare(
    db: Pool | PoolClient,
    req: DeliveryRequest,
  ): Promise<{ record: NotificationRecord; created: boolean }> {
    const payload = withoutRoutingKey(this.build(req));
    const now = new Date(this.clock.now());
    return this.log.claim(db, {
      groupKey: req.groupKey,
      receiver: req.receiver,
      integration: integrationName(req.integration),
      channel: req.integration.kind,
      sequence: req.sequence,
      alertStatus: notificationStatus(req.notification),
      fingerprints: req.notification.alerts.map((a) => a.fingerprint),
      payload,
      escalation: req.escalation ?? null,
      createdAt: now,
    });
  }

  /** Sends a recorded notification unless this process is already sending it. */
  async complete(
    rec: NotificationRecord,
    integ: Integration,
    nflog: NotifiedEntry | undefined,
  ): Promise<NotificationRecord> {
    if (rec.status !== 'pending' || this.inFlight.has(rec.id)) return rec;
    this.inFlight.add(rec.id);
    try {
      return await this.send(rec, integ, nflog);
    } finally {
      this.inFlight.delete(rec.id);
    }
  }

  /** Finishes what a crash left half-done: each pending record is sent again with its stored body. */
  async resendPending(integrationOf: (r: NotificationRecord) => Integration | undefined): Promise<number> {
    let n = 0;
    for (const rec of await this.log.pending()) {
      const integ = integrationOf(rec);
      if (!integ) continue;
      const nflog: NotifiedEntry | undefined = rec.escalation
        ? undefined
        : {
            sequence: rec.sequence,
            firing: rec.alertStatus === 'firing' ? rec.fingerprints : [],
            resolved: [],
            at: new Date(this.clock.now()),
          };
      if (this.inFlight.has(rec.id)) continue;
      await this.complete(rec, integ, nflog);
      n++;
    }
    return n;
  }

  private async send(
    rec: NotificationRecord,
    integ: Integration,
    nflog: NotifiedEntry | undefined,
  ): Promise<NotificationRecord> {
    let attempt = 0;
    let last = '';
    for (;;) {
      attempt++;
      this.metrics.attempts.inc({ channel: rec.channel });
      const outcome = await this.attempt(rec, integ);
      const decision = decideRetry(outcome, attempt, this.policy, new Date(this.clock.now()));
      if (decision.action === 'done') return this.finish(rec, 'delivered', attempt, null, nflog);
      last = decision.reason;
      if (decision.action === 'fail') return this.finish(rec, 'failed', attempt, last, undefined);
      this.logger.warn(
        `${rec.receiver}/${rec.integration} attempt ${attempt}: ${last}; retrying in ${decision.delayMs} ms`,
      );
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, decision.delayMs));
    }
  }

  private async attempt(rec: NotificationRecord, integ: Integration): Promise<AttemptOutcome> {
    const c = integ.config;
    try {
      switch (rec.channel) {
        case 'webhook':
          return await this.post(String(c.url ?? ''), rec, true);
        case 'slack':
          return await this.post(String(c.api_url ?? ''), rec, false);
        case 'pagerduty':
          return await this.post(String(c.url ?? 'https://events.pagerduty.com/v2/enqueue'), rec, false, {
            routing_key: String(c.routing_key ?? c.service_key ?? ''),
            ...rec.payload,
          });
        case 'email':
          return await this.mail(c, rec.payload as unknown as EmailMessage);
        default:
          return { kind: 'http', status: 501, body: `channel ${rec.channel} is loaded but not delivered by ArcWatch` };
      }
    } catch (e) {
      return { kind: 'error', message: (e as Error).message };
    }
  }

  private async post(
    url: string,
    rec: NotificationRecord,
    signed: boolean,
    payload: Record<string, unknown> = rec.payload,
  ): Promise<AttemptOutcome> {
    const body = goJson(payload);
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'ArcWatch-Notifier/0.1',
      // Lets a receiver drop a resend of the same notification (a retry after a crash).
      'Idempotency-Key': createHash('sha256')
        .update(`${rec.groupKey}\n${rec.receiver}\n${rec.integration}\n${rec.sequence}`)
        .digest('hex'),
    };
    if (signed && this.config.webhookSecret) headers[SIGNATURE_HEADER] = signBody(body, this.config.webhookSecret);
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(this.config.httpTimeoutMs),
    });
    const text = await res.text().catch(() => '');
    return { kind: 'http', status: res.status, retryAfter: res.headers.get('retry-after'), body: text };
  }

  private async mail(c: Record<string, unknown>, m: EmailMessage): Promise<AttemptOutcome> {
    const [host, port] = String(c.smarthost ?? '').split(/:(?=\d+$)/);
    const transport = createTransport({
      host,
      port: Number(port),
      secure: c.force_implicit_tls === true,
      requireTLS: c.require_tls === true,
      ignoreTLS: c.require_tls !== true,
      auth: c.auth_username ? { user: String(c.auth_username), pass: String(c.auth_password ?? '') } : undefined,
      name: String(c.hello ?? 'localhost'),
      connectionTimeout: this.config.httpTimeoutMs,
      greetingTimeout: this.config.httpTimeoutMs,
      socketTimeout: this.config.httpTimeoutMs,
    });
    try {
      await transport.sendMail({
        from: m.from,
        to: m.to,
        subject: m.subject,
        html: m.html,
        text: m.text,
        headers: m.headers,
      });
      // The SMTP server took the message: reported like an HTTP success.
      return { kind: 'http', status: 200 };
    } catch (e) {
      const code = (e as { responseCode?: number }).responseCode;
      // SMTP 5xx is a permanent refusal; 4xx and connection problems are worth retrying.
      if (code !== undefined && code >= 500) return { kind: 'http', status: 400, body: (e as Error).message };
      return { kind: 'error', message: (e as Error).message };
    } finally {
      transport.close();
    }
  }

  private async finish(
    rec: NotificationRecord,
    status: 'delivered' | 'failed',
    attempts: number,
    error: string | null,
    nflog: NotifiedEntry | undefined,
  ): Promise<NotificationRecord> {
    const now = new Date(this.clock.now());
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await this.log.finish(client, rec.id, status, attempts, error, now);
      if (status === 'delivered' && nflog)
        await this.log.remember(client, rec.groupKey, rec.receiver, rec.integration, { ...nflog, at: now });
      await this.enqueue(client, status, { ...rec, attempts }, now, error);
      if (rec.escalation && status === 'delivered')
        await this.enqueue(client, 'escalated', { ...rec, attempts }, now, null);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
    this.metrics.notifications.inc({ channel: rec.channel, outcome: status });
    void this.relay.flush().catch((e: unknown) => this.logger.warn(`outbox relay: ${(e as Error).message}`));
    return { ...rec, status, attempts, lastError: error, finishedAt: now };
  }

  private async enqueue(
    db: PoolClient,
    outcome: NotifyOutcome,
    rec: NotificationRecord,
    now: Date,
    error: string | null,
  ): Promise<void> {
    const data: NotificationV1 = {
      groupKey: rec.groupKey,
      receiver: rec.receiver,
      integration: rec.integration,
      channel: rec.channel,
      sequence: rec.sequence,
      status: rec.alertStatus,
      fingerprints: rec.fingerprints,
      attempts: Math.max(1, rec.attempts),
      at: now.toISOString(),
      ...(error ? { error } : {}),
      ...(rec.escalation ? { escalation: rec.escalation } : {}),
    };
    await enqueueOutbox(db, this.config.dbSchema, [
      {
        subject: notifySubject(outcome, rec.channel),
        event: cloudEvent({
          type: NOTIFY_TYPES[outcome],
          source: 'arcwatch/notifier',
          id: notifyEventId(outcome, rec),
          subject: rec.groupKey,
          data,
          time: now,
        }),
      },
    ]);
  }
}

/**
 * The notification log keeps what was sent, for retries and the history API, but not the
 * PagerDuty routing key: it is a secret, added from the receiver's configuration when the request
 * is made (docs/access.md).
 */
export function withoutRoutingKey(payload: Record<string, unknown>): Record<string, unknown> {
  if (!('routing_key' in payload)) return payload;
  const { routing_key: _secret, ...stored } = payload;
  return stored;
}
