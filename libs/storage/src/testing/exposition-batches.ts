import type { MetricsBatchV1, WireValue } from '@arcwatch/contracts';

/**
 * Test and benchmark helper: turns simple Prometheus text exposition (no escaped quotes inside
 * label values, which holds for the fixtures used here) into metrics batches. The real parser is
 * @arcwatch/exposition; storage tests must not depend on it.
 */
const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)(?:\s+(-?\d+))?\s*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g;

function wire(v: string): WireValue {
  if (v === 'NaN') return 'NaN';
  if (v === '+Inf' || v === 'Inf') return '+Inf';
  if (v === '-Inf') return '-Inf';
  return Number(v);
}

export function batchFromExposition(
  text: string,
  opts: { batchId: string; timestampMs: number; job: string; instance: string },
): MetricsBatchV1 {
  const series: MetricsBatchV1['series'] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = { __name__: m[1]!, job: opts.job, instance: opts.instance };
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!;
    series.push({ labels, samples: [[m[4] !== undefined ? Number(m[4]) : opts.timestampMs, wire(m[3]!)]] });
  }
  return {
    batchId: opts.batchId,
    source: 'scrape',
    cluster: 'test',
    node: opts.instance,
    target: { job: opts.job, instance: opts.instance },
    scrapedAtMs: opts.timestampMs,
    series,
  };
}

/** The minimal shape of bench/fleet.mjs's Fleet used here. */
export interface FleetLike {
  nodes: number;
  series: { id: number; node: number; name: string; fullLabels: Record<string, string> }[];
  nodeSeries: number[][];
  values: Float64Array;
  step(dtSec?: number): void;
}

/** One batch per node for the fleet's current values at `timestampMs` (one scrape of every node). */
export function fleetScrapeBatches(fleet: FleetLike, timestampMs: number, onlyMetric?: string): MetricsBatchV1[] {
  const out: MetricsBatchV1[] = [];
  for (let n = 0; n < fleet.nodes; n++) {
    const series: MetricsBatchV1['series'] = [];
    for (const id of fleet.nodeSeries[n]!) {
      const s = fleet.series[id]!;
      if (onlyMetric !== undefined && s.name !== onlyMetric) continue;
      series.push({
        labels: { __name__: s.name, job: 'fleet', ...s.fullLabels },
        samples: [[timestampMs, fleet.values[id]!]],
      });
    }
    const instance = fleet.series[fleet.nodeSeries[n]![0]!]!.fullLabels.instance!;
    out.push({
      batchId: `fleet/${instance}/${timestampMs}`,
      source: 'scrape',
      cluster: 'bench',
      node: instance,
      target: { job: 'fleet', instance },
      scrapedAtMs: timestampMs,
      series,
    });
  }
  return out;
}
