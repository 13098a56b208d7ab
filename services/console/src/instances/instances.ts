import { z } from 'zod';
import { sampleValue, type VectorSample } from '../upstream/prometheus';

/** Engine gauges per instance, from the vLLM series the collector stores. */
export const ENGINE_QUERIES = {
  running: 'sum by (instance, node, model_name) (vllm:num_requests_running)',
  waiting: 'sum by (instance, node, model_name) (vllm:num_requests_waiting)',
  kvCache: 'avg by (instance, node, model_name) (vllm:kv_cache_usage_perc)',
  requestsPerSecond: 'sum by (instance, node, model_name) (rate(vllm:request_success_total[1m]))',
  tokensPerSecond: 'sum by (instance, node, model_name) (rate(vllm:generation_tokens_total[1m]))',
  preemptions: 'sum by (instance, node, model_name) (increase(vllm:num_preemptions_total[5m]))',
} as const;
export type EngineField = keyof typeof ENGINE_QUERIES;

export interface EngineRow {
  instance: string;
  node: string | null;
  model: string | null;
  values: Partial<Record<EngineField, number | null>>;
}

export function buildEngines(results: Record<EngineField, VectorSample[]>): EngineRow[] {
  const rows = new Map<string, EngineRow>();
  for (const field of Object.keys(ENGINE_QUERIES) as EngineField[]) {
    for (const s of results[field]) {
      const key = `${s.metric.instance}\u0000${s.metric.model_name}`;
      let row = rows.get(key);
      if (!row)
        rows.set(
          key,
          (row = {
            instance: s.metric.instance ?? '?',
            node: s.metric.node ?? null,
            model: s.metric.model_name ?? null,
            values: {},
          }),
        );
      row.values[field] = sampleValue(s.value[1]);
    }
  }
  return [...rows.values()].sort(
    (a, b) => (a.model ?? '').localeCompare(b.model ?? '') || a.instance.localeCompare(b.instance),
  );
}

const quantiles = z
  .object({ p50: z.number().nullable(), p90: z.number().nullable(), p99: z.number().nullable() })
  .nullable();
/** One window of tracing's /api/v1/requests/stats. */
export const statsWindowSchema = z.object({
  start: z.string(),
  stepSeconds: z.number(),
  model: z.string(),
  modelVersion: z.string(),
  tenant: z.string(),
  requests: z.record(z.string(), z.number()),
  tokens: z.object({ prompt: z.number(), completion: z.number(), cached: z.number() }),
  latencySeconds: z.record(z.string(), quantiles),
});
export type StatsWindow = z.infer<typeof statsWindowSchema>;

export interface ModelRow {
  model: string;
  modelVersion: string;
  tenant: string;
  requests: number;
  errors: number;
  requestsPerSecond: number;
  completionTokensPerSecond: number;
  /** Quantiles of the latest minute that had requests (minutes' quantiles do not add up). */
  latest: { start: string; latencySeconds: StatsWindow['latencySeconds'] } | null;
}

/**
 * Per model, version and tenant over the window: counts add up exactly; latency quantiles are
 * those of the latest minute with requests, because quantiles of separate minutes cannot be merged
 * from their summaries.
 */
export function summarizeStats(windows: StatsWindow[], windowSeconds: number): ModelRow[] {
  const rows = new Map<string, ModelRow>();
  for (const w of [...windows].sort((a, b) => a.start.localeCompare(b.start))) {
    const key = JSON.stringify([w.model, w.modelVersion, w.tenant]);
    let row = rows.get(key);
    if (!row)
      rows.set(
        key,
        (row = {
          model: w.model,
          modelVersion: w.modelVersion,
          tenant: w.tenant,
          requests: 0,
          errors: 0,
          requestsPerSecond: 0,
          completionTokensPerSecond: 0,
          latest: null,
        }),
      );
    const n = Object.values(w.requests).reduce((a, b) => a + b, 0);
    row.requests += n;
    row.errors += w.requests.failed ?? 0;
    row.completionTokensPerSecond += w.tokens.completion / windowSeconds;
    if (Object.values(w.latencySeconds).some((q) => q !== null))
      row.latest = { start: w.start, latencySeconds: w.latencySeconds };
  }
  for (const r of rows.values()) r.requestsPerSecond = r.requests / windowSeconds;
  return [...rows.values()].sort(
    (a, b) => b.requests - a.requests || a.model.localeCompare(b.model) || a.tenant.localeCompare(b.tenant),
  );
}
