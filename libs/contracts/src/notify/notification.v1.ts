import { z } from 'zod';
import { deterministicId } from '../cloudevents/envelope';
import { subjectToken } from '../subjects';

/**
 * What the notifier did with a notification, on aw.notify.v1.<outcome>.<channel>:
 * delivered (the receiver accepted it), failed (given up after retries, or refused for good) and
 * escalated (an escalation level paged its targets). Channel is the integration kind: webhook,
 * slack, pagerduty, email, or another Alertmanager kind.
 */
export const NOTIFY_DELIVERED_V1 = 'io.arcwatch.notify.delivered.v1';
export const NOTIFY_FAILED_V1 = 'io.arcwatch.notify.failed.v1';
export const NOTIFY_ESCALATED_V1 = 'io.arcwatch.notify.escalated.v1';

export const NOTIFY_OUTCOMES = ['delivered', 'failed', 'escalated'] as const;
export type NotifyOutcome = (typeof NOTIFY_OUTCOMES)[number];

const isoTime = z.iso.datetime({ offset: true });

export const notificationV1Schema = z.object({
  /** Alertmanager's aggregation-group key (route key and group labels); an escalation's own key for escalations. */
  groupKey: z.string().min(1),
  receiver: z.string().min(1),
  /** Integration kind and index within the receiver, e.g. pagerduty/0. */
  integration: z.string().min(1),
  channel: z.string().min(1),
  /** Per (group, receiver): 1 for the first notification of a group, then +1 for each. */
  sequence: z.number().int().min(1),
  status: z.enum(['firing', 'resolved']),
  /** Fingerprints of the alerts the notification carried. */
  fingerprints: z.array(z.string().regex(/^[0-9a-f]{16}$/)),
  attempts: z.number().int().min(1),
  at: isoTime,
  /** For failed: the last error (HTTP status and body start, or the transport error). */
  error: z.string().optional(),
  /** For escalated: the level paged (1-based) and the policy. */
  escalation: z
    .object({ policy: z.string(), level: z.number().int().min(1), cycle: z.number().int().min(0) })
    .optional(),
});
export type NotificationV1 = z.infer<typeof notificationV1Schema>;

export const NOTIFY_TYPES: Record<NotifyOutcome, string> = {
  delivered: NOTIFY_DELIVERED_V1,
  failed: NOTIFY_FAILED_V1,
  escalated: NOTIFY_ESCALATED_V1,
};

export function notifySubject(outcome: NotifyOutcome, channel: string): string {
  return `aw.notify.v1.${outcome}.${subjectToken(channel)}`;
}

/** One id per (group, receiver, integration, sequence, outcome): a retried relay or a redelivery is one event. */
export function notifyEventId(
  outcome: NotifyOutcome,
  n: Pick<NotificationV1, 'groupKey' | 'receiver' | 'integration' | 'sequence'>,
): string {
  return deterministicId(NOTIFY_TYPES[outcome], n.groupKey, n.receiver, n.integration, n.sequence);
}
