/**
 * What the query benchmarks (query.bench.ts, rollup.bench.ts) share: loading generated history
 * into a store, the collector over that store as its own process, and timing warm runs.
 */
import type { SampleStore, HistorySeries } from '@arcwatch/storage';
import {
  TEST_AUTH_ENV,
  eventually,
  freePort,
  startProcess,
  testNamespace,
  type RunningProcess,
} from '@arcwatch/testing';
import type { FleetHistory } from '../fleet-history';
import { median } from '../query-report';

/** One warm-up, then `runs` timed calls; the median, every time, and the last body. */
export async function timeRuns(
  runs: number,
  fn: () => Promise<string>,
): Promise<{ median: number; runs: number[]; body: string }> {
  let body = await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    body = await fn();
    times.push(performance.now() - t0);
  }
  return { median: median(times), runs: times, body };
}

/** The history into the store with importHistory, `group` series per call. */
export async function loadHistory(
  store: SampleStore,
  h: FleetHistory,
  group: number,
): Promise<{ ms: number; samples: number; chunks: number }> {
  const t0 = performance.now();
  let samples = 0;
  let chunks = 0;
  for (let from = 0; from < h.labels.length; from += group) {
    const series: HistorySeries[] = [];
    for (let i = from; i < Math.min(h.labels.length, from + group); i++) {
      series.push({
        labels: h.labels[i]!,
        timestamps: h.timestamps,
        values: h.matrix.subarray(i * h.steps, (i + 1) * h.steps),
      });
    }
    const r = await store.importHistory(series);
    samples += r.samples;
    chunks += r.chunks;
  }
  return { ms: performance.now() - t0, samples, chunks };
}

/**
 * The collector as `npm start` runs it (its own process, default role), over the schema the
 * history was loaded into, listening on a free loopback port; resolves once /readyz answers.
 */
export async function startQueryCollector(
  databaseUrl: string,
  schema: string,
  env: Record<string, string> = {},
): Promise<{ proc: RunningProcess; baseUrl: string }> {
  const port = await freePort();
  const proc = startProcess('collector', 'services/collector/src/main.ts', [], {
    ...TEST_AUTH_ENV,
    DATABASE_URL: databaseUrl,
    NATS_NAMESPACE: testNamespace(),
    COLLECTOR_DB_SCHEMA: schema,
    COLLECTOR_HOST: '127.0.0.1',
    COLLECTOR_PORT: String(port),
    ...env,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await eventually(
      async () => ((await fetch(`${baseUrl}/readyz`).catch(() => undefined))?.ok ? true : undefined),
      120_000,
      'collector /readyz',
    );
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n${proc.log()}`);
  }
  return { proc, baseUrl };
}
