import { Injectable } from '@nestjs/common';
import { MetricsRegistry, type Counter } from '@arcwatch/runtime';

type CounterName =
  | 'requests_recorded'
  | 'requests_late'
  | 'requests_skipped'
  | 'windows_allocated'
  | 'invoice_lines_imported'
  | 'invoice_rows_rejected'
  | 'outbox_published'
  | 'placements_discovered'
  | 'discovery_failures';

const HELP: Record<CounterName, string> = {
  requests_recorded: 'Request records stored for allocation.',
  requests_late: 'Request records that arrived after their windows were allocated (stored, not charged).',
  requests_skipped: 'Request records that cannot be charged (no instance, no occupancy).',
  windows_allocated: 'Instance windows allocated.',
  invoice_lines_imported: 'FOCUS invoice lines stored (new ones only).',
  invoice_rows_rejected: 'FOCUS rows refused, with their line and reason.',
  outbox_published: 'Events published from the outbox.',
  placements_discovered: 'Placement changes observed in the collector metrics (instance moved, GPUs or model changed).',
  discovery_failures: 'Inventory discovery passes that could not read the collector.',
};

/** The billing service's own metrics, on the runtime's registry (GET /metrics). */
@Injectable()
export class BillingMetrics {
  private readonly counters: Record<CounterName, Counter>;

  constructor(registry: MetricsRegistry) {
    this.counters = Object.fromEntries(
      (Object.keys(HELP) as CounterName[]).map((name) => [
        name,
        registry.counter(`arcwatch_billing_${name}_total`, HELP[name]),
      ]),
    ) as Record<CounterName, Counter>;
  }

  inc(name: CounterName, by = 1): void {
    if (by > 0) this.counters[name].inc(by);
  }
}
