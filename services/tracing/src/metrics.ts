import { Injectable } from '@nestjs/common';
import { MetricsRegistry, type Counter, type Gauge } from '@arcwatch/runtime';

type CounterName =
  | 'events_ingested'
  | 'events_duplicate'
  | 'events_late'
  | 'events_rejected'
  | 'otlp_spans_mapped'
  | 'otlp_spans_skipped'
  | 'otlp_spans_rejected'
  | 'outbox_published'
  | 'deadlines_held';

const HELP: Record<CounterName, string> = {
  events_ingested: 'Lifecycle events stored for assembly.',
  events_duplicate: 'Lifecycle events that were already stored (redelivery, replay, re-sent).',
  events_late: 'Lifecycle events of requests that were already assembled.',
  events_rejected: 'Lifecycle events refused at ingest (invalid).',
  otlp_spans_mapped: 'OTLP spans turned into lifecycle events.',
  otlp_spans_skipped: 'OTLP spans without GenAI attributes.',
  otlp_spans_rejected: 'OTLP GenAI spans that could not be mapped.',
  outbox_published: 'Events published from the outbox.',
  deadlines_held:
    'Requests past their grace or abandonment deadline held back, once per pass, because an event message stored by then was not acked yet.',
};

/** The tracing service's own metrics, on the runtime's registry (GET /metrics). */
@Injectable()
export class TracingMetrics {
  private readonly counters: Record<CounterName, Counter>;
  private readonly assembled: Counter<'status'>;
  private readonly open: Gauge;

  constructor(registry: MetricsRegistry) {
    this.counters = Object.fromEntries(
      (Object.keys(HELP) as CounterName[]).map((name) => [
        name,
        registry.counter(`arcwatch_tracing_${name}_total`, HELP[name]),
      ]),
    ) as Record<CounterName, Counter>;
    this.assembled = registry.counter(
      'arcwatch_tracing_requests_assembled_total',
      'Requests assembled by this process, by status.',
      ['status'],
    );
    this.open = registry.gauge('arcwatch_tracing_open_requests', 'Requests waiting for assembly.');
  }

  inc(name: CounterName, by = 1): void {
    if (by > 0) this.counters[name].inc(by);
  }

  assembledRequest(status: string): void {
    this.assembled.inc({ status });
  }

  setOpenRequests(n: number): void {
    this.open.set(n);
  }
}
