import type { PublicEvent } from '../catalog/public-event';
import { ALERT_ACKNOWLEDGED_V1, ALERT_V1, alertAcknowledgedV1Schema, alertV1Schema } from './alert.v1';

export const ALERT_EVENTS: PublicEvent[] = [
  {
    type: ALERT_V1,
    title: 'Alert firing or resolved',
    description: 'An alerting rule or a detector changed state: Alertmanager-shaped alert with a stable fingerprint.',
    stream: 'alerts',
    subject: 'aw.alerts.v1.{status}.{severity}.{team}',
    subjectTokens: {
      status: '`firing` or `resolved`',
      severity: 'the `severity` label (P0–P3) or `none`',
      team: 'the `team` label or `none`',
    },
    schema: alertV1Schema,
    publishers: ['anomaly'],
    consumers: ['notifier', 'console', 'integrations'],
    idPromise: 'derived from fingerprint, status and startsAt: one event per transition, however often it is re-sent',
    ordering: 'per fingerprint, firing is published before its resolved (outbox order)',
  },
  {
    type: ALERT_ACKNOWLEDGED_V1,
    title: 'Alert acknowledged',
    description: 'A person acknowledged a firing alert; escalation stops for that episode.',
    stream: 'alerts',
    subject: 'aw.alerts.v1.acknowledged.{severity}.{team}',
    subjectTokens: { severity: 'the `severity` label or `none`', team: 'the `team` label or `none`' },
    schema: alertAcknowledgedV1Schema,
    publishers: ['notifier'],
    consumers: ['console', 'integrations'],
    idPromise: 'derived from fingerprint and startsAt: one acknowledgement per episode',
    ordering: 'none',
  },
];
