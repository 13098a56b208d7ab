import type { PublicEvent } from '../catalog/public-event';
import { NOTIFY_DELIVERED_V1, NOTIFY_ESCALATED_V1, NOTIFY_FAILED_V1, notificationV1Schema } from './notification.v1';

const common = {
  stream: 'notify' as const,
  subjectTokens: { channel: 'the integration kind: `webhook`, `slack`, `pagerduty`, `email`, …' },
  schema: notificationV1Schema,
  publishers: ['notifier'],
  consumers: ['console', 'integrations'],
  idPromise: 'derived from group key, receiver, integration and sequence: one event per notification and outcome',
  ordering: 'per group and receiver, in sequence order',
};

export const NOTIFY_EVENTS: PublicEvent[] = [
  {
    ...common,
    type: NOTIFY_DELIVERED_V1,
    title: 'Notification delivered',
    description: 'A receiver accepted a notification (HTTP 2xx, or the SMTP server took the message).',
    subject: 'aw.notify.v1.delivered.{channel}',
  },
  {
    ...common,
    type: NOTIFY_FAILED_V1,
    title: 'Notification failed',
    description:
      'A notification was given up: refused for good (4xx other than 429) or still failing after its retries.',
    subject: 'aw.notify.v1.failed.{channel}',
  },
  {
    ...common,
    type: NOTIFY_ESCALATED_V1,
    title: 'Alert escalated',
    description:
      'An escalation level paged its targets because the alert was neither acknowledged nor resolved in time.',
    subject: 'aw.notify.v1.escalated.{channel}',
  },
];
