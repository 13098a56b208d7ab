import { Injectable } from '@nestjs/common';
import { MetricsRegistry, type Counter, type Gauge } from '@arcwatch/runtime';

/** The notifier's own metrics (GET /metrics). */
@Injectable()
export class NotifierMetrics {
  readonly alertsReceived: Counter<'source'>;
  readonly notifications: Counter<'channel' | 'outcome'>;
  readonly attempts: Counter<'channel'>;
  readonly escalations: Counter<'event'>;
  readonly outboxPublished: Counter;
  readonly activeAlerts: Gauge;
  readonly groups: Gauge;

  constructor(registry: MetricsRegistry) {
    this.alertsReceived = registry.counter(
      'arcwatch_notifier_alerts_received_total',
      'Alerts received, by source (api, jetstream, webhook).',
      ['source'],
    );
    this.notifications = registry.counter(
      'arcwatch_notifier_notifications_total',
      'Notifications finished, by channel and outcome.',
      ['channel', 'outcome'],
    );
    this.attempts = registry.counter(
      'arcwatch_notifier_delivery_attempts_total',
      'Delivery attempts (retries included), by channel.',
      ['channel'],
    );
    this.escalations = registry.counter(
      'arcwatch_notifier_escalation_events_total',
      'Escalation events: started, paged, acknowledged, resolved, rearmed.',
      ['event'],
    );
    this.outboxPublished = registry.counter(
      'arcwatch_notifier_outbox_published_total',
      'Events published from the outbox.',
    );
    this.activeAlerts = registry.gauge('arcwatch_notifier_active_alerts', 'Alerts held (firing or recently resolved).');
    this.groups = registry.gauge('arcwatch_notifier_aggregation_groups', 'Aggregation groups waiting for a flush.');
  }
}
