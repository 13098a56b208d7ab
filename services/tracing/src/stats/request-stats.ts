import {
  toWireValue,
  type MetricsBatchExemplar,
  type MetricsBatchSeries,
  type RequestCompletedV1,
  type RequestStatus,
} from '@arcwatch/contracts';
import {
  addValueInPlace,
  copySketch,
  emptySketch,
  mergeSketches,
  quantile,
  type LatencySketch,
} from './latency-sketch';

/**
 * Per-minute request statistics per (model, model version, tenant), pure. A minute is keyed by
 * the request's end. Everything here is mergeable: minutes roll up into hours by `mergeStats`.
 */
export interface StatsKey {
  model: string;
  modelVersion: string;
  tenant: string;
}

export const LATENCIES = ['queue', 'ttft', 'tpot', 'e2e'] as const;
export type LatencyName = (typeof LATENCIES)[number];

export interface WindowStats {
  key: StatsKey;
  /** Window start, ms since epoch (a whole minute or hour). */
  startMs: number;
  byStatus: Partial<Record<RequestStatus, number>>;
  /** Failed requests by error code, cancelled by finish reason. */
  errorsByReason: Record<string, number>;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  latencies: Record<LatencyName, LatencySketch>;
  /**
   * Classic histogram buckets of TTFT and E2E (bounds BUCKET_BOUNDS_S, the last is +Inf), each
   * with its slowest request as the exemplar that links the bucket to a request. Absent in
   * minutes stored by older versions.
   */
  buckets?: Partial<Record<BucketedLatency, LatencyBucket[]>>;
}

/** One bucket (not cumulative): how many requests fell in it and the slowest of them. */
export interface LatencyBucket {
  count: number;
  exemplar?: { requestId: string; seconds: number; atMs: number };
}

/** Latencies exported as histograms with exemplars: the two a user jumps from a panel to a request on. */
export const BUCKETED_LATENCIES = ['ttft', 'e2e'] as const;
export type BucketedLatency = (typeof BUCKETED_LATENCIES)[number];
/** Upper bounds in seconds (the same as the request API's exemplar buckets), then +Inf. */
export const BUCKET_BOUNDS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;

function bucketIndex(seconds: number): number {
  const i = BUCKET_BOUNDS_S.findIndex((b) => seconds <= b);
  return i < 0 ? BUCKET_BOUNDS_S.length : i;
}

function emptyBuckets(): LatencyBucket[] {
  return Array.from({ length: BUCKET_BOUNDS_S.length + 1 }, () => ({ count: 0 }));
}

function slower(a: LatencyBucket['exemplar'], b: LatencyBucket['exemplar']): LatencyBucket['exemplar'] {
  if (!a) return b;
  if (!b) return a;
  return outranks(b.seconds, b.requestId, a) ? b : a;
}

/**
 * Whether a request of `seconds` and `requestId` is the exemplar rather than `e`. Deterministic
 * whatever the order requests were folded in: the slowest, then the smaller id.
 */
function outranks(seconds: number, requestId: string, e: LatencyBucket['exemplar']): boolean {
  return e === undefined || seconds > e.seconds || (seconds === e.seconds && requestId < e.requestId);
}

function mergeBuckets(a: LatencyBucket[] | undefined, b: LatencyBucket[] | undefined): LatencyBucket[] | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.map((x, i) => {
    const exemplar = slower(x.exemplar, b[i]?.exemplar);
    return { count: x.count + (b[i]?.count ?? 0), ...(exemplar ? { exemplar } : {}) };
  });
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const QUANTILES = [0.5, 0.9, 0.99] as const;

export function windowStart(ms: number, sizeMs: number): number {
  return Math.floor(ms / sizeMs) * sizeMs;
}

export function emptyStats(key: StatsKey, startMs: number): WindowStats {
  return {
    key,
    startMs,
    byStatus: {},
    errorsByReason: {},
    promptTokens: 0,
    completionTokens: 0,
    cachedTokens: 0,
    latencies: { queue: emptySketch(), ttft: emptySketch(), tpot: emptySketch(), e2e: emptySketch() },
  };
}

/** Why a request did not complete, as a bounded label value, or undefined when it did. */
export function errorReason(r: RequestCompletedV1): string | undefined {
  if (r.status === 'completed') return undefined;
  if (r.status === 'abandoned') return 'abandoned';
  const raw = r.status === 'failed' ? (r.error?.code ?? 'error') : (r.finishReason ?? 'cancelled');
  return sanitizeLabelValue(raw);
}

export function sanitizeLabelValue(raw: string): string {
  const v = raw
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .slice(0, 40);
  return v.length > 0 ? v : 'other';
}

export function addRecord(
  stats: WindowStats,
  r: RequestCompletedV1,
  reason: string | undefined = errorReason(r),
): WindowStats {
  return addRecordInPlace(copyStats(stats), r, reason);
}

/** A window that shares nothing mutable with `w`, for addRecordInPlace. */
export function copyStats(w: WindowStats): WindowStats {
  const buckets: Partial<Record<BucketedLatency, LatencyBucket[]>> = {};
  for (const name of BUCKETED_LATENCIES) {
    const list = w.buckets?.[name];
    if (list) buckets[name] = list.map((b) => ({ ...b }));
  }
  return {
    ...w,
    buckets,
    byStatus: { ...w.byStatus },
    errorsByReason: { ...w.errorsByReason },
    latencies: {
      queue: copySketch(w.latencies.queue),
      ttft: copySketch(w.latencies.ttft),
      tpot: copySketch(w.latencies.tpot),
      e2e: copySketch(w.latencies.e2e),
    },
  };
}

/**
 * addRecord on a window the caller owns (from emptyStats or copyStats), changed in place and
 * returned: the statistics of a group of thousands of requests without a copy per request.
 */
export function addRecordInPlace(
  stats: WindowStats,
  r: RequestCompletedV1,
  reason: string | undefined = errorReason(r),
  endedAtMs: number = Date.parse(r.endedAt),
): WindowStats {
  for (const name of LATENCIES) {
    const v = r[LATENCY_FIELD[name]];
    if (v !== null) addValueInPlace(stats.latencies[name], v / 1000);
  }
  const buckets = (stats.buckets ??= {});
  for (const name of BUCKETED_LATENCIES) {
    const v = r[LATENCY_FIELD[name]];
    if (v !== null) countInBucket((buckets[name] ??= emptyBuckets()), v / 1000, r.requestId, endedAtMs);
  }
  stats.byStatus[r.status] = (stats.byStatus[r.status] ?? 0) + 1;
  if (reason !== undefined) stats.errorsByReason[reason] = (stats.errorsByReason[reason] ?? 0) + 1;
  stats.promptTokens += r.promptTokens ?? 0;
  stats.completionTokens += r.completionTokens ?? 0;
  stats.cachedTokens += r.cachedTokens ?? 0;
  return stats;
}

/** The record's field of each latency. */
const LATENCY_FIELD = {
  queue: 'queueMs',
  ttft: 'ttftMs',
  tpot: 'tpotMs',
  e2e: 'e2eMs',
} as const satisfies Record<LatencyName, keyof RequestCompletedV1>;

/**
 * One request in its bucket of `list` (the window's own: emptyBuckets, or copied by copyStats),
 * the bucket changed in place; its exemplar replaced, never changed, when this request outranks it.
 */
function countInBucket(list: LatencyBucket[], seconds: number, requestId: string, atMs: number): void {
  const bucket = list[bucketIndex(seconds)];
  bucket.count += 1;
  if (outranks(seconds, requestId, bucket.exemplar)) bucket.exemplar = { requestId, seconds, atMs };
}

/** Merges windows of one key (minutes into their hour): counts add, sketches merge. */
export function mergeStats(a: WindowStats, b: WindowStats, startMs = Math.min(a.startMs, b.startMs)): WindowStats {
  const addCounts = <K extends string>(x: Partial<Record<K, number>>, y: Partial<Record<K, number>>) => {
    const out: Partial<Record<K, number>> = { ...x };
    for (const [k, v] of Object.entries(y) as Array<[K, number]>) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  return {
    key: a.key,
    startMs,
    byStatus: addCounts(a.byStatus, b.byStatus),
    errorsByReason: addCounts(a.errorsByReason, b.errorsByReason) as Record<string, number>,
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    cachedTokens: a.cachedTokens + b.cachedTokens,
    latencies: {
      queue: mergeSketches(a.latencies.queue, b.latencies.queue),
      ttft: mergeSketches(a.latencies.ttft, b.latencies.ttft),
      tpot: mergeSketches(a.latencies.tpot, b.latencies.tpot),
      e2e: mergeSketches(a.latencies.e2e, b.latencies.e2e),
    },
    buckets: Object.fromEntries(
      BUCKETED_LATENCIES.flatMap((n) => {
        const m = mergeBuckets(a.buckets?.[n], b.buckets?.[n]);
        return m ? [[n, m]] : [];
      }),
    ),
  };
}

export function rollUp(windows: WindowStats[], sizeMs = HOUR_MS): WindowStats[] {
  const out = new Map<string, WindowStats>();
  for (const w of windows) {
    const start = windowStart(w.startMs, sizeMs);
    const id = JSON.stringify([start, w.key.model, w.key.modelVersion, w.key.tenant]);
    const prev = out.get(id);
    out.set(id, prev ? mergeStats(prev, w, start) : { ...w, startMs: start });
  }
  return [...out.values()];
}

/**
 * Keeps the label sets bounded: at most `maxKeys` (model, version, tenant) combinations and
 * `maxReasons` error reasons; beyond, values fold into `other`. Request ids never become labels.
 */
export class CardinalityLimiter {
  private readonly keys = new Set<string>();
  private readonly reasons = new Set<string>();

  constructor(
    readonly maxKeys = 500,
    readonly maxReasons = 32,
  ) {}

  key(r: Pick<RequestCompletedV1, 'model' | 'modelVersion' | 'tenant'>): StatsKey {
    const k: StatsKey = { model: r.model, modelVersion: r.modelVersion, tenant: r.tenant };
    const id = JSON.stringify([k.model, k.modelVersion, k.tenant]);
    if (this.keys.has(id)) return k;
    if (this.keys.size < this.maxKeys) {
      this.keys.add(id);
      return k;
    }
    return { model: 'other', modelVersion: 'other', tenant: 'other' };
  }

  reason(reason: string | undefined): string | undefined {
    if (reason === undefined || this.reasons.has(reason)) return reason;
    if (this.reasons.size < this.maxReasons) {
      this.reasons.add(reason);
      return reason;
    }
    return 'other';
  }
}

/** Cumulative counters per label set, as Prometheus counters must be. */
export type CounterTotals = Record<string, { labels: Record<string, string>; value: number }>;

export function counterIncrements(w: WindowStats): Array<{ labels: Record<string, string>; value: number }> {
  const base = { model: w.key.model, model_version: w.key.modelVersion, tenant: w.key.tenant };
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const [status, n] of Object.entries(w.byStatus))
    out.push({ labels: { __name__: 'arcwatch_requests_total', ...base, status }, value: n });
  for (const [reason, n] of Object.entries(w.errorsByReason))
    out.push({ labels: { __name__: 'arcwatch_request_errors_total', ...base, reason }, value: n });
  const tokens: Array<[string, number]> = [
    ['arcwatch_request_prompt_tokens_total', w.promptTokens],
    ['arcwatch_request_completion_tokens_total', w.completionTokens],
    ['arcwatch_request_cached_tokens_total', w.cachedTokens],
  ];
  for (const [name, v] of tokens) out.push({ labels: { __name__: name, ...base }, value: v });
  for (const name of BUCKETED_LATENCIES) {
    const list = w.buckets?.[name];
    if (!list) continue;
    // Cumulative `le` buckets, as Prometheus histograms are: bucket i counts everything up to its bound.
    let below = 0;
    list.forEach((b, i) => {
      below += b.count;
      const le = i < BUCKET_BOUNDS_S.length ? String(BUCKET_BOUNDS_S[i]) : '+Inf';
      out.push({ labels: { __name__: `arcwatch_request_${name}_seconds_bucket`, ...base, le }, value: below });
    });
  }
  return out;
}

/**
 * The exemplars of a minute's histogram buckets, for the series at `offset` onwards of what
 * minuteSeries returned for the same window: each bucket that had requests links to its slowest.
 */
export function minuteExemplars(
  w: WindowStats,
  series: readonly MetricsBatchSeries[],
  offset: number,
): MetricsBatchExemplar[] {
  const base = { model: w.key.model, model_version: w.key.modelVersion, tenant: w.key.tenant };
  const out: MetricsBatchExemplar[] = [];
  for (const name of BUCKETED_LATENCIES) {
    const list = w.buckets?.[name];
    if (!list) continue;
    list.forEach((b, i) => {
      if (b.count === 0 || !b.exemplar) return;
      const le = i < BUCKET_BOUNDS_S.length ? String(BUCKET_BOUNDS_S[i]) : '+Inf';
      const id = seriesId({ __name__: `arcwatch_request_${name}_seconds_bucket`, ...base, le });
      const at = series.findIndex((s) => seriesId(s.labels) === id);
      if (at >= 0)
        out.push({
          series: offset + at,
          labels: { request_id: b.exemplar.requestId },
          value: b.exemplar.seconds,
          timestampMs: b.exemplar.atMs,
        });
    });
  }
  return out;
}

/**
 * What several windows add to the cumulative counters, one entry per series. Windows of the same
 * label set in different minutes feed the same counter, so their increments are summed here: the
 * store applies each series once per statement.
 */
export function summedIncrements(
  windows: readonly WindowStats[],
): Array<{ id: string; labels: Record<string, string>; value: number }> {
  const byId = new Map<string, { id: string; labels: Record<string, string>; value: number }>();
  for (const w of windows) {
    for (const inc of counterIncrements(w)) {
      const id = seriesId(inc.labels);
      const sum = byId.get(id);
      if (sum) sum.value += inc.value;
      else byId.set(id, { id, labels: inc.labels, value: inc.value });
    }
  }
  return [...byId.values()].filter((i) => i.value !== 0);
}

export function seriesId(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export function addToTotals(totals: CounterTotals, w: WindowStats): CounterTotals {
  const out = { ...totals };
  for (const inc of counterIncrements(w)) {
    const id = seriesId(inc.labels);
    out[id] = { labels: inc.labels, value: (out[id]?.value ?? 0) + inc.value };
  }
  return out;
}

/**
 * The series of one closed minute: the cumulative counters of its label sets as of the minute's
 * end, and the minute's latency quantiles (gauges `arcwatch_request_<name>_seconds{quantile}`).
 */
export function minuteSeries(w: WindowStats, totals: CounterTotals): MetricsBatchSeries[] {
  const at = w.startMs + MINUTE_MS;
  const base = { model: w.key.model, model_version: w.key.modelVersion, tenant: w.key.tenant };
  const series: MetricsBatchSeries[] = [];
  for (const inc of counterIncrements(w)) {
    const total = totals[seriesId(inc.labels)]?.value ?? inc.value;
    series.push({ labels: inc.labels, samples: [[at, total]] });
  }
  for (const name of LATENCIES) {
    const sketch = w.latencies[name];
    if (sketch.count === 0) continue;
    for (const q of QUANTILES) {
      series.push({
        labels: { __name__: `arcwatch_request_${name}_seconds`, ...base, quantile: String(q) },
        samples: [[at, toWireValue(quantile(sketch, q))]],
      });
    }
  }
  return series;
}
