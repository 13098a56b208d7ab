/**
 * The reference workload (../shared/bench/fleet.mjs) as in-memory history: one Float64Array per
 * series over a shared timestamp axis. The same seed, node count, step and end time give the same
 * numbers as fleet.mjs's `om` and `vmjson` modes, which feed Prometheus and VictoriaMetrics.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Labels } from '@arcwatch/contracts';
import { BENCH_DIR } from '@arcwatch/testing';

interface FleetSeries {
  name: string;
  fullLabels: Record<string, string>;
}

interface FleetInstance {
  series: FleetSeries[];
  values: Float64Array;
}

interface FleetModule {
  Fleet: new (o: { nodes: number; gpusPerNode?: number; seed?: number }) => FleetInstance;
  history: (
    fleet: FleetInstance,
    o: { hours: number; stepSec: number; endMs: number },
    cb: (k: number, tsMs: number, values: Float64Array) => void,
  ) => number;
}

export const FLEET_SCRIPT = path.join(BENCH_DIR, 'fleet.mjs');

export interface FleetHistory {
  labels: Labels[];
  timestamps: Float64Array;
  /** Series-major: the values of series i are matrix[i*steps … (i+1)*steps). */
  matrix: Float64Array;
  steps: number;
}

async function loadFleetModule(): Promise<FleetModule> {
  // fleet.mjs is ESM; the swc build turns import() into require(), so keep it out of sight.
  const dynamicImport = new Function('u', 'return import(u)') as (u: string) => Promise<FleetModule>;
  return dynamicImport(pathToFileURL(FLEET_SCRIPT).href);
}

export async function generateHistory(opts: {
  nodes: number;
  hours: number;
  stepSec: number;
  endMs: number;
  /** Keep only these metrics' series (the fleet still steps every series, so values match). */
  metrics?: readonly string[];
}): Promise<FleetHistory> {
  const { Fleet, history } = await loadFleetModule();
  const fleet = new Fleet({ nodes: opts.nodes, seed: 1 });
  const keep = fleet.series.flatMap((s, i) => (!opts.metrics || opts.metrics.includes(s.name) ? [i] : []));
  const n = keep.length;
  const steps = Math.floor((opts.hours * 3600) / opts.stepSec);
  const matrix = new Float64Array(n * steps);
  const timestamps = new Float64Array(steps);
  history(fleet, { hours: opts.hours, stepSec: opts.stepSec, endMs: opts.endMs }, (k, t, v) => {
    timestamps[k] = t;
    for (let j = 0; j < n; j++) matrix[j * steps + k] = v[keep[j]!]!;
  });
  const labels = keep.map((i) => ({ __name__: fleet.series[i]!.name, ...fleet.series[i]!.fullLabels }));
  return { labels, timestamps, matrix, steps };
}
