import type { MetadataParams } from './query-params';

/**
 * /api/v1/metadata without stored metadata. Scrape batches do not carry `# TYPE` / `# HELP`
 * (only remote_write does, and the sample store keeps none), so the families are derived from
 * the metric names the store has seen, by the naming conventions every exporter in the fixtures
 * follows: `<f>_bucket` + `<f>_count` + `<f>_sum` is a histogram `<f>`, `<f>_total` a counter,
 * `<f>_count` + `<f>_sum` without buckets a summary. Everything else is reported as `unknown`
 * (a gauge cannot be told from an untyped metric by its name). Help texts stay empty.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'unknown';

export interface MetadataEntry {
  type: MetricType;
  help: string;
  unit: string;
}

export function inferFamilies(metricNames: readonly string[]): Map<string, MetricType> {
  const names = new Set(metricNames);
  const families = new Map<string, MetricType>();
  const claimed = new Set<string>();
  for (const name of [...names].sort()) {
    if (!name.endsWith('_bucket')) continue;
    const base = name.slice(0, -'_bucket'.length);
    if (!names.has(`${base}_count`) || !names.has(`${base}_sum`)) continue;
    families.set(base, 'histogram');
    for (const suffix of ['_bucket', '_count', '_sum', '_created']) claimed.add(`${base}${suffix}`);
  }
  for (const name of [...names].sort()) {
    if (claimed.has(name) || !name.endsWith('_count')) continue;
    const base = name.slice(0, -'_count'.length);
    if (!names.has(`${base}_sum`)) continue;
    families.set(base, 'summary');
    for (const suffix of ['_count', '_sum', '_created']) claimed.add(`${base}${suffix}`);
  }
  for (const name of [...names].sort()) {
    // A summary's quantile series carry the family name itself.
    if (claimed.has(name) || families.has(name)) continue;
    if (name.endsWith('_created') && (names.has(`${name.slice(0, -'_created'.length)}_total`) || families.has(name.slice(0, -'_created'.length)))) continue;
    families.set(name, name.endsWith('_total') ? 'counter' : 'unknown');
  }
  return families;
}

/**
 * The `data` of a metadata response: family → entries, filtered and limited as Prometheus does.
 * There is one entry per family here, so limit_per_metric never cuts anything.
 */
export function metadataResponse(families: ReadonlyMap<string, MetricType>, params: MetadataParams): Record<string, MetadataEntry[]> {
  const out: Record<string, MetadataEntry[]> = {};
  let count = 0;
  for (const [name, type] of [...families].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (params.metric !== undefined && name !== params.metric) continue;
    if (params.limit >= 0 && count >= params.limit) break;
    out[name] = [{ type, help: '', unit: '' }];
    count++;
  }
  return out;
}
