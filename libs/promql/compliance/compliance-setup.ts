/**
 * Puts the same generated demo data into both systems: promtool blocks under a real Prometheus,
 * and ArcWatch's SampleStore in a PostgreSQL database (bulk history import into chunk rows).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { SampleStore, migrate, sampleStoreMigrations } from '@arcwatch/storage';
import type { Pool } from 'pg';
import { DEMO_START_MS, generateDemoSeries, type DemoSeries } from './demo-series';
import { writeOpenMetrics } from './openmetrics-writer';
import { PrometheusReference, createBlocks } from './prometheus-reference';
import type { QueryPlan } from './compliance-runner';

export interface ComplianceSystems {
  reference: PrometheusReference;
  store: SampleStore;
  series: DemoSeries[];
  samples: number;
  plan: QueryPlan;
}

const SCHEMA = 'compliance';

/**
 * Query times for a data set: three instant times (one shortly after instance 10002's counter
 * reset, two later, where 1 h ranges and 10 m offsets are full) and a range query over the
 * second half at a 10 s step. Every time is a whole second a few seconds past a multiple of
 * 10 s: the samples never sit on a window boundary (demo-series.ts), and this keeps the points
 * of the corpus' 10 s subqueries, which lie on multiples of 10 s, off the boundary as well; on
 * the grid, Prometheus 2.x would count the leftmost subquery point in its closed-left window and
 * 3.x would not. The first instant time falls where no target was scraped in the last second,
 * so that `absent_over_time(…[1s])` has something to report.
 */
export function queryPlanFor(startMs: number, durationMs: number): QueryPlan {
  const end = startMs + durationMs;
  const offGrid = (ms: number, s: number) => Math.floor(ms / 10_000) * 10_000 + s * 1000;
  return {
    instantTimesMs: [
      offGrid(startMs + durationMs * 0.47, 4),
      offGrid(startMs + durationMs * 0.8, 3),
      offGrid(end - 10_000, 3),
    ],
    range: { startMs: offGrid(startMs + durationMs / 2, 3), endMs: offGrid(end - 10_000, 3), stepMs: 10_000 },
  };
}

export async function prepareSystems(opts: {
  pool: Pool;
  workDir: string;
  durationMs: number;
  startMs?: number;
}): Promise<ComplianceSystems> {
  const startMs = opts.startMs ?? DEMO_START_MS;
  const series = generateDemoSeries({ startMs, durationMs: opts.durationMs });
  mkdirSync(opts.workDir, { recursive: true });
  const omFile = path.join(opts.workDir, 'demo.om.txt');
  const samples = await writeOpenMetrics(omFile, series);
  await createBlocks(omFile, path.join(opts.workDir, 'tsdb'));

  await migrate(opts.pool, { schema: SCHEMA, migrations: sampleStoreMigrations(SCHEMA) });
  const store = new SampleStore(opts.pool, { schema: SCHEMA, clock: () => startMs + opts.durationMs + 3_600_000 });
  const [reference] = await Promise.all([
    PrometheusReference.start(path.join(opts.workDir, 'tsdb')),
    store.importHistory(series.map((s) => ({ labels: s.labels, timestamps: s.timestamps, values: s.values }))),
  ]);
  try {
    await checkReferenceSeesData(reference, series, startMs + opts.durationMs - 1000);
  } catch (err) {
    await reference.stop();
    throw err;
  }
  return { reference, store, series, samples, plan: queryPlanFor(startMs, opts.durationMs) };
}

/** The reference must hold every series, with the exact sample timestamps generated. */
async function checkReferenceSeesData(
  reference: PrometheusReference,
  series: DemoSeries[],
  atMs: number,
): Promise<void> {
  const count = await reference.instantQuery('count({job="demo"})', atMs);
  const probe = series.find((s) => s.labels.__name__ === 'demo_num_cpus')!;
  const lastT = probe.timestamps[probe.timestamps.length - 1]!;
  const raw = await reference.instantQuery(`demo_num_cpus{instance="${probe.labels.instance}"}[1m]`, lastT);
  const want = Array.from(probe.timestamps).filter((t) => t > lastT - 60_000);
  const got = raw.ok && raw.type === 'matrix' ? raw.series[0]?.timestamps : undefined;
  const present = new Set(
    series.filter((s) => s.timestamps[s.timestamps.length - 1]! > atMs - 300_000).map((s) => JSON.stringify(s.labels)),
  ).size;
  if (!count.ok || count.type !== 'vector' || count.samples[0]?.value !== present) {
    throw new Error(
      `the reference does not see the generated series: ${JSON.stringify(count).slice(0, 300)}, expected ${present}`,
    );
  }
  // sixty seconds before the last sample; the closed-left 2.x window may hold one more
  if (!got || got.slice(-want.length).join() !== want.join()) {
    throw new Error(
      `the reference's sample timestamps differ from the generated ones: ${got?.join()} vs ${want.join()}`,
    );
  }
}
