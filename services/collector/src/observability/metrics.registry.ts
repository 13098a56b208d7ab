/**
 * A small registry for the collector's own metrics, rendered in the Prometheus text format.
 * Counters, gauges and histograms with fixed label names; no dependency beyond this file.
 */
type LabelValues = Record<string, string>;

function escapeValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: LabelValues, extra?: [string, string]): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeValue(v)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeValue(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
  ) {}
  abstract lines(): string[];
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`, ...this.lines()].join('\n');
  }
}

export class Counter extends Metric {
  private readonly values = new Map<string, { labels: LabelValues; value: number }>();
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }
  inc(labels: LabelValues = {}, by = 1): void {
    const key = JSON.stringify(labels);
    const cur = this.values.get(key) ?? { labels, value: 0 };
    cur.value += by;
    this.values.set(key, cur);
  }
  get(labels: LabelValues = {}): number {
    return this.values.get(JSON.stringify(labels))?.value ?? 0;
  }
  lines(): string[] {
    return [...this.values.values()].map((v) => `${this.name}${labelText(v.labels)} ${formatNumber(v.value)}`);
  }
}

export class Gauge extends Metric {
  private readonly values = new Map<string, { labels: LabelValues; value: number }>();
  constructor(name: string, help: string) {
    super(name, help, 'gauge');
  }
  set(labels: LabelValues, value: number): void {
    this.values.set(JSON.stringify(labels), { labels, value });
  }
  delete(labels: LabelValues): void {
    this.values.delete(JSON.stringify(labels));
  }
  lines(): string[] {
    return [...this.values.values()].map((v) => `${this.name}${labelText(v.labels)} ${formatNumber(v.value)}`);
  }
}

export class Histogram extends Metric {
  private readonly values = new Map<string, { labels: LabelValues; counts: number[]; sum: number; count: number }>();
  constructor(
    name: string,
    help: string,
    private readonly buckets: readonly number[],
  ) {
    super(name, help, 'histogram');
  }
  observe(labels: LabelValues, value: number): void {
    const key = JSON.stringify(labels);
    const cur = this.values.get(key) ?? { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
    this.buckets.forEach((b, i) => {
      if (value <= b) cur.counts[i]++;
    });
    cur.sum += value;
    cur.count++;
    this.values.set(key, cur);
  }
  lines(): string[] {
    const out: string[] = [];
    for (const v of this.values.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelText(v.labels, ['le', formatNumber(b)])} ${v.counts[i]}`));
      out.push(`${this.name}_bucket${labelText(v.labels, ['le', '+Inf'])} ${v.count}`);
      out.push(`${this.name}_sum${labelText(v.labels)} ${formatNumber(v.sum)}`);
      out.push(`${this.name}_count${labelText(v.labels)} ${v.count}`);
    }
    return out;
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];
  register<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }
  render(): string {
    return `${this.metrics.map((m) => m.render()).join('\n')}\n`;
  }
}
