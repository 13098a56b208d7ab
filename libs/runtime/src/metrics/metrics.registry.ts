import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram } from 'prom-client';

/**
 * The process's own metrics (prom-client): Node's default process metrics plus the service's
 * counters, gauges and histograms, rendered on GET /metrics. One registry per app instance, so
 * tests can build several apps in one process.
 */
export class MetricsRegistry {
  readonly registry = new Registry();

  /**
   * `eventLoopMonitoringPrecisionMs`: how often the event-loop delay is sampled (prom-client's
   * default, 10 ms, wakes an idle process 100 times a second: about 0.7 % of a core on its own,
   * which a per-node agent cannot afford).
   */
  constructor(
    readonly service: string,
    opts: { eventLoopMonitoringPrecisionMs?: number } = {},
  ) {
    collectDefaultMetrics({
      register: this.registry,
      prefix: 'arcwatch_',
      ...(opts.eventLoopMonitoringPrecisionMs === undefined
        ? {}
        : { eventLoopMonitoringPrecision: opts.eventLoopMonitoringPrecisionMs }),
    });
  }

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.existing(name) ?? new Counter<L>({ name, help, labelNames, registers: [this.registry] });
  }

  gauge<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: (this: Gauge<L>) => void | Promise<void>,
  ): Gauge<L> {
    return (
      this.existing(name) ??
      new Gauge<L>({ name, help, labelNames, registers: [this.registry], ...(collect ? { collect } : {}) })
    );
  }

  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets?: number[],
  ): Histogram<L> {
    return (
      this.existing(name) ??
      new Histogram<L>({ name, help, labelNames, registers: [this.registry], ...(buckets ? { buckets } : {}) })
    );
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Current value of a counter or gauge with these labels (0 when never set). */
  async value(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = this.registry.getSingleMetric(name);
    if (!metric) return 0;
    const data = await metric.get();
    const want = Object.entries(labels);
    const hit = data.values.find((v) =>
      want.every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val),
    );
    return hit?.value ?? 0;
  }

  private existing<M>(name: string): M | undefined {
    return this.registry.getSingleMetric(name) as M | undefined;
  }
}
