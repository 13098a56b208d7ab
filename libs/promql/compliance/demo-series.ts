/**
 * Deterministic series shaped like PromLabs' demo service as the compliance corpus expects it
 * (three instances scraped every 5 s, job "demo"). Every metric name and label the corpus
 * queries is here; the values are our own simulation, seeded, so every run is identical.
 *
 * Scrape timestamps carry a fixed per-target phase plus a few milliseconds of jitter, as real
 * scrapes do, and are never a whole second. Query times, ranges, offsets and steps in the corpus
 * are all whole seconds, so no sample ever sits exactly on a range or lookback boundary: the
 * closed-left windows of Prometheus 2.x and the open-left windows of 3.x select the same samples.
 */
import type { Labels } from '@arcwatch/contracts';

export interface DemoSeries {
  labels: Labels;
  timestamps: Float64Array;
  values: Float64Array;
}

export interface DemoDataOptions {
  /** First scrape time (ms); default 2025-03-10T10:00:00Z. */
  startMs?: number;
  /** How long the instances are scraped (ms); default 2 h. */
  durationMs?: number;
  seed?: number;
}

export const DEMO_START_MS = Date.UTC(2025, 2, 10, 10, 0, 0);
export const SCRAPE_INTERVAL_MS = 5_000;
export const DEMO_INSTANCES = [
  'demo.promlabs.com:10000',
  'demo.promlabs.com:10001',
  'demo.promlabs.com:10002',
] as const;

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, Infinity];
const MEMORY_TYPES = ['buffers', 'cached', 'free', 'used'] as const;
const CPU_MODES = ['idle', 'system', 'user'] as const;
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** Request mix per (method, path): requests per second, base latency, error ratio, outage period. */
const ENDPOINTS = [
  { method: 'GET', path: '/api/foo', rps: 12, latency: 0.01, errors: 0.005, outageS: 23 },
  { method: 'POST', path: '/api/foo', rps: 4, latency: 0.02, errors: 0.02, outageS: 60 },
  { method: 'GET', path: '/api/bar', rps: 8, latency: 0.015, errors: 0.0025, outageS: 13 },
  { method: 'POST', path: '/api/bar', rps: 2, latency: 0.05, errors: 0.01, outageS: 47 },
] as const;

/** mulberry32: small, fast and good enough for simulation; fully determined by its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function poisson(rand: () => number, mean: number): number {
  // normal approximation is fine at the rates simulated here (mean ≥ 10)
  return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(rand)));
}

/** Formats an `le` bound as client_golang does. */
function leLabel(b: number): string {
  return b === Infinity ? '+Inf' : String(b);
}

/** Seconds with three decimals, as an OpenMetrics sample timestamp. */
export function formatOpenMetricsTimestamp(ms: number): string {
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}`;
}

/**
 * Whether a timestamp survives the OpenMetrics round trip exactly: Prometheus's parser reads the
 * seconds as a float64 and truncates `seconds * 1000` to an integer, which can lose 1 ms.
 */
function survivesRoundTrip(ms: number): boolean {
  return Math.trunc(Number(formatOpenMetricsTimestamp(ms)) * 1000) === ms;
}

class SeriesBuilder {
  private readonly map = new Map<string, { labels: Labels; ts: number[]; vs: number[] }>();

  add(labels: Labels, t: number, v: number): void {
    const key = JSON.stringify(labels);
    let s = this.map.get(key);
    if (!s) this.map.set(key, (s = { labels, ts: [], vs: [] }));
    s.ts.push(t);
    s.vs.push(v);
  }

  build(): DemoSeries[] {
    return [...this.map.values()].map((s) => ({
      labels: s.labels,
      timestamps: Float64Array.from(s.ts),
      values: Float64Array.from(s.vs),
    }));
  }
}

interface InstanceState {
  memory: Record<(typeof MEMORY_TYPES)[number], number>;
  cpu: Record<(typeof CPU_MODES)[number], number>;
  disk: number;
  batchLastRun: number;
  batchLastSuccess: number;
  batchDuration: number;
  batchBytes: number;
  histograms: Map<string, { buckets: number[]; sum: number; count: number }>;
}

function freshCounters(state: InstanceState): void {
  state.cpu = { idle: 0, system: 0, user: 0 };
  state.histograms = new Map();
}

/**
 * Generates the demo series. Instance 10002 restarts once (a counter reset and two missed
 * scrapes); a batch job runs every few minutes and sometimes fails; the disk fills up and is
 * cleaned; `demo_intermittent_metric` is exposed only in the first two minutes of every ten.
 */
export function generateDemoSeries(opts: DemoDataOptions = {}): DemoSeries[] {
  const startMs = opts.startMs ?? DEMO_START_MS;
  const durationMs = opts.durationMs ?? 2 * 3_600_000;
  const rand = prng(opts.seed ?? 20250310);
  const out = new SeriesBuilder();
  const scrapes = Math.floor(durationMs / SCRAPE_INTERVAL_MS);

  DEMO_INSTANCES.forEach((instance, idx) => {
    const base = { instance, job: 'demo' };
    const cpus = [4, 8, 6][idx]!;
    const totalMem = [16, 32, 24][idx]! * GiB;
    const phaseMs = 1_137 + idx * 1_609; // Prometheus spreads targets over the interval
    const restartAt = idx === 2 ? Math.floor(scrapes * 0.45) : -1;
    const state: InstanceState = {
      memory: { used: totalMem * 0.4, cached: totalMem * 0.2, buffers: totalMem * 0.05, free: 0 },
      cpu: { idle: 0, system: 0, user: 0 },
      disk: 40 * GiB + idx * 5 * GiB,
      batchLastRun: 0,
      batchLastSuccess: 0,
      batchDuration: 0,
      batchBytes: 0,
      histograms: new Map(),
    };
    const usedBase = state.memory.used;
    const cachedBase = state.memory.cached;
    const buffersBase = state.memory.buffers;
    state.batchLastRun = state.batchLastSuccess = Math.floor((startMs - 90_000) / 1000);

    for (let i = 0; i < scrapes; i++) {
      let t = startMs + i * SCRAPE_INTERVAL_MS + phaseMs + Math.round(gaussian(rand) * 4);
      while (t % 1000 === 0 || !survivesRoundTrip(t)) t++;
      if (i === restartAt) freshCounters(state);
      if (i === restartAt - 1 || i === restartAt - 2) continue; // the target was down

      const walk = (v: number, b: number) => {
        const next = v + (rand() - 0.5) * 60 * MiB;
        return Math.abs(next - b) > b * 0.15 ? b : Math.round(next);
      };
      state.memory.used = walk(state.memory.used, usedBase);
      state.memory.cached = walk(state.memory.cached, cachedBase);
      state.memory.buffers = walk(state.memory.buffers, buffersBase);
      state.memory.free = totalMem - state.memory.used - state.memory.cached - state.memory.buffers;
      for (const type of MEMORY_TYPES)
        out.add({ __name__: 'demo_memory_usage_bytes', ...base, type }, t, state.memory[type]);

      const busy = 0.3 + 0.2 * Math.sin((2 * Math.PI * (t - startMs)) / 1_800_000 + idx);
      const user = cpus * busy * 0.7 * (1 + 0.1 * gaussian(rand));
      const system = cpus * busy * 0.3 * (1 + 0.1 * gaussian(rand));
      state.cpu.user += Math.max(0, user) * 5;
      state.cpu.system += Math.max(0, system) * 5;
      state.cpu.idle += Math.max(0, cpus - user - system) * 5;
      for (const mode of CPU_MODES)
        out.add({ __name__: 'demo_cpu_usage_seconds_total', ...base, mode }, t, state.cpu[mode]);

      out.add({ __name__: 'demo_num_cpus', ...base }, t, cpus);

      state.disk += Math.round((2 + rand()) * MiB);
      if (state.disk > 60 * GiB + idx * 5 * GiB) state.disk = 40 * GiB; // cleanup job
      out.add({ __name__: 'demo_disk_usage_bytes', ...base }, t, state.disk);
      out.add({ __name__: 'demo_disk_total_bytes', ...base }, t, 100 * GiB);

      const nowS = Math.floor(t / 1000);
      if (nowS - state.batchLastRun >= 240 + idx * 60) {
        state.batchLastRun = nowS;
        state.batchDuration = 20 + rand() * 40;
        state.batchBytes = Math.round(MiB * (50 + rand() * 200));
        if (rand() > 0.2) state.batchLastSuccess = nowS;
      }
      out.add({ __name__: 'demo_batch_last_run_timestamp_seconds', ...base }, t, state.batchLastRun);
      out.add({ __name__: 'demo_batch_last_success_timestamp_seconds', ...base }, t, state.batchLastSuccess);
      out.add({ __name__: 'demo_batch_last_run_duration_seconds', ...base }, t, state.batchDuration);
      out.add({ __name__: 'demo_batch_last_run_processed_bytes', ...base }, t, state.batchBytes);

      addRequests(out, state, base, t, rand);
      out.add({ __name__: 'demo_api_http_requests_in_progress', ...base }, t, Math.floor(rand() * 4));

      if (Math.floor((t - startMs) / 60_000) % 10 < 2) out.add({ __name__: 'demo_intermittent_metric', ...base }, t, 1);
    }
  });
  return out.build();
}

function addRequests(out: SeriesBuilder, state: InstanceState, base: Labels, t: number, rand: () => number): void {
  for (const ep of ENDPOINTS) {
    const outage = Math.floor(t / 1000) % (10 * ep.outageS) < ep.outageS;
    const n = poisson(rand, ep.rps * 5);
    for (let r = 0; r < n; r++) {
      const latency = Math.max(0.0005, ep.latency * (outage ? 3 : 1) * Math.exp(0.6 * gaussian(rand)));
      const status = rand() < ep.errors * (outage ? 10 : 1) ? '500' : '200';
      const key = `${ep.method} ${ep.path} ${status}`;
      let h = state.histograms.get(key);
      if (!h) state.histograms.set(key, (h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 }));
      for (let b = 0; b < BUCKETS.length; b++) if (latency <= BUCKETS[b]!) h.buckets[b]!++;
      h.sum += latency;
      h.count++;
    }
  }
  for (const [key, h] of state.histograms) {
    const [method, path, status] = key.split(' ') as [string, string, string];
    const labels = { ...base, method, path, status };
    BUCKETS.forEach((b, i) =>
      out.add({ __name__: 'demo_api_request_duration_seconds_bucket', ...labels, le: leLabel(b) }, t, h.buckets[i]!),
    );
    out.add({ __name__: 'demo_api_request_duration_seconds_sum', ...labels }, t, h.sum);
    out.add({ __name__: 'demo_api_request_duration_seconds_count', ...labels }, t, h.count);
  }
}
