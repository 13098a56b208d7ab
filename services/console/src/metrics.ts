import { Injectable } from '@nestjs/common';
import { MetricsRegistry, type Counter, type Histogram } from '@arcwatch/runtime';

/** The console's own metrics, on the runtime's registry (GET /metrics). */
@Injectable()
export class ConsoleMetrics {
  private readonly calls: Counter<'service' | 'outcome'>;
  private readonly seconds: Histogram<'service'>;

  constructor(registry: MetricsRegistry) {
    this.calls = registry.counter(
      'arcwatch_console_upstream_calls_total',
      'Calls to other ArcWatch services, by service and outcome (ok, rejected, unavailable).',
      ['service', 'outcome'],
    );
    this.seconds = registry.histogram(
      'arcwatch_console_upstream_call_seconds',
      'Time of calls to other ArcWatch services.',
      ['service'],
      [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    );
  }

  upstreamCall(service: string, outcome: 'ok' | 'rejected' | 'unavailable', seconds: number): void {
    this.calls.inc({ service, outcome });
    this.seconds.observe({ service }, seconds);
  }
}
