import type { MetadataParams } from './query-params';

/**
 * /api/v1/metadata: what targets declared (`# TYPE` / `# HELP` / `# UNIT` of a scrape or push,
 * remote_write's metadata), stored by the writer; families no target described are derived from
 * the metric names stored, by the naming conventions every exporter in the fixtures follows:
 * `<f>_bucket` + `<f>_count` + `<f>_sum` is a histogram `<f>`, `<f>_total` a counter,
 * `<f>_count` + `<f>_sum` without buckets a summary, everything else `unknown` (a gauge cannot be
 * told from an untyped metric by its name), with empty help and unit.
 */
export type MetricType =
  'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset' | 'unknown';

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
    if (
      name.endsWith('_created') &&
      (names.has(`${name.slice(0, -'_created'.length)}_total`) || families.has(name.slice(0, -'_created'.length)))
    )
      continue;
    families.set(name, name.endsWith('_total') ? 'counter' : 'unknown');
  }
  return families;
}

/**
 * Declared entries first; a guessed family is added only when no declaration covers it (an
 * OpenMetrics counter is declared as `foo`, its series and so the guess are `foo_total`).
 */
export function mergeMetadata(
  declared: ReadonlyArray<{ metric: string } & MetadataEntry>,
  guessed: ReadonlyMap<string, MetricType>,
): Map<string, MetadataEntry[]> {
  const out = new Map<string, MetadataEntry[]>();
  for (const d of declared) {
    const list = out.get(d.metric) ?? [];
    list.push({ type: d.type, help: d.help, unit: d.unit });
    out.set(d.metric, list);
  }
  for (const [name, type] of guessed) {
    if (out.has(name)) continue;
    if (type === 'counter' && name.endsWith('_total') && out.has(name.slice(0, -'_total'.length))) continue;
    out.set(name, [{ type, help: '', unit: '' }]);
  }
  return out;
}

/** The `data` of a metadata response: family → entries, filtered and limited as Prometheus does. */
export function metadataResponse(
  families: ReadonlyMap<string, readonly MetadataEntry[]>,
  params: MetadataParams,
): Record<string, MetadataEntry[]> {
  const out: Record<string, MetadataEntry[]> = {};
  let count = 0;
  for (const [name, entries] of [...families].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (params.metric !== undefined && name !== params.metric) continue;
    if (params.limit >= 0 && count >= params.limit) break;
    out[name] = params.limitPerMetric > 0 ? entries.slice(0, params.limitPerMetric) : [...entries];
    count++;
  }
  return out;
}
