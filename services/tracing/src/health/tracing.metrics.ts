import { Injectable } from '@nestjs/common';

type CounterName =
  | 'events_ingested'
  | 'events_duplicate'
  | 'events_late'
  | 'events_rejected'
  | 'otlp_spans_mapped'
  | 'otlp_spans_skipped'
  | 'otlp_spans_rejected'
  | 'outbox_published';

const HELP: Record<CounterName, string> = {
  events_ingested: 'Lifecycle events stored for assembly.',
  events_duplicate: 'Lifecycle events that were already stored (redelivery, replay, re-sent).',
  events_late: 'Lifecycle events of requests that were already assembled.',
  events_rejected: 'Lifecycle events refused at ingest (invalid).',
  otlp_spans_mapped: 'OTLP spans turned into lifecycle events.',
  otlp_spans_skipped: 'OTLP spans without GenAI attributes.',
  otlp_spans_rejected: 'OTLP GenAI spans that could not be mapped.',
  outbox_published: 'Events published from the outbox.',
};

/** The service's own counters, exposed on /metrics in the Prometheus text format. */
@Injectable()
export class TracingMetrics {
  private readonly counters = new Map<CounterName, number>();
  private readonly assembled = new Map<string, number>();
  private openRequests = 0;

  inc(name: CounterName, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  assembledRequest(status: string): void {
    this.assembled.set(status, (this.assembled.get(status) ?? 0) + 1);
  }

  setOpenRequests(n: number): void {
    this.openRequests = n;
  }

  render(): string {
    const lines: string[] = [];
    for (const name of Object.keys(HELP) as CounterName[]) {
      const metric = `arcwatch_tracing_${name}_total`;
      lines.push(`# HELP ${metric} ${HELP[name]}`, `# TYPE ${metric} counter`, `${metric} ${this.counters.get(name) ?? 0}`);
    }
    lines.push('# HELP arcwatch_tracing_requests_assembled_total Requests assembled by this process, by status.');
    lines.push('# TYPE arcwatch_tracing_requests_assembled_total counter');
    for (const [status, n] of [...this.assembled].sort()) lines.push(`arcwatch_tracing_requests_assembled_total{status="${status}"} ${n}`);
    lines.push('# HELP arcwatch_tracing_open_requests Requests waiting for assembly.', '# TYPE arcwatch_tracing_open_requests gauge', `arcwatch_tracing_open_requests ${this.openRequests}`);
    return lines.join('\n') + '\n';
  }
}
