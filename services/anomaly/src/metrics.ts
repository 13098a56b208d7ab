import { Injectable } from '@nestjs/common';
import { MetricsRegistry, type Counter, type Gauge, type Histogram } from '@arcwatch/runtime';

type CounterName =
  | 'samples_ingested'
  | 'batches_rejected'
  | 'rule_evaluations'
  | 'rule_evaluation_failures'
  | 'alert_transitions'
  | 'outbox_published'
  | 'alertmanager_posts_failed'
  | 'rule_reloads';

const HELP: Record<CounterName, string> = {
  samples_ingested: 'Samples added to the in-memory window from the live metrics stream.',
  batches_rejected: 'Metrics batches dead-lettered (malformed).',
  rule_evaluations: 'Rule group evaluations.',
  rule_evaluation_failures: 'Rules whose evaluation failed.',
  alert_transitions: 'Alert state transitions (pending, firing, resolved).',
  outbox_published: 'Events published from the outbox.',
  alertmanager_posts_failed: 'POSTs to the Alertmanager that failed.',
  rule_reloads: 'Rule files reloaded after a change.',
};

/** The anomaly service's own metrics, on the runtime's registry (GET /metrics). */
@Injectable()
export class AnomalyMetrics {
  private readonly counters: Record<CounterName, Counter>;
  private readonly windowSeries: Gauge;
  private readonly evalSeconds: Histogram;

  constructor(registry: MetricsRegistry) {
    this.counters = Object.fromEntries(
      (Object.keys(HELP) as CounterName[]).map((name) => [
        name,
        registry.counter(`arcwatch_anomaly_${name}_total`, HELP[name]),
      ]),
    ) as Record<CounterName, Counter>;
    this.windowSeries = registry.gauge('arcwatch_anomaly_window_series', 'Series held in the in-memory window.');
    this.evalSeconds = registry.histogram(
      'arcwatch_anomaly_group_evaluation_seconds',
      'Time to evaluate one rule group.',
      [],
      [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    );
  }

  inc(name: CounterName, by = 1): void {
    if (by > 0) this.counters[name].inc(by);
  }

  setWindowSeries(n: number): void {
    this.windowSeries.set(n);
  }

  observeEvaluation(seconds: number): void {
    this.evalSeconds.observe(seconds);
  }
}
