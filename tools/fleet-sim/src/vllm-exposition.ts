/**
 * A vLLM V1 instance's /metrics page as prometheus_client writes it: label names sorted, values
 * as Python floats, counters with `_total` and a `_created` gauge family after each counter and
 * histogram, histogram buckets then `_count` then `_sum`.
 */
import { type FamilyLine, type Labels, familyBlock, formatLabels, pythonFloat } from './exposition-text';
import type { VllmEngine } from './vllm-engine';
import { FINISHED_REASONS, PROMPT_TOKEN_SOURCES, VLLM_COUNTERS, VLLM_HISTOGRAMS } from './vllm-catalog';

function sortedLabels(labels: Labels): string {
  return formatLabels(labels, Object.keys(labels).sort());
}

function gauge(name: string, help: string, rows: Array<[Labels, number]>): string {
  return familyBlock(
    name,
    'gauge',
    help,
    rows.map(([l, v]) => ({ name, labels: sortedLabels(l), value: pythonFloat(v) })),
  );
}

function counter(base: string, help: string, rows: Array<[Labels, number]>, created: number): string {
  const total = `${base}_total`;
  const lines = rows.map(([l, v]) => ({ name: total, labels: sortedLabels(l), value: pythonFloat(v) }));
  return (
    familyBlock(total, 'counter', help, lines) +
    gauge(
      `${base}_created`,
      help,
      rows.map(([l]) => [l, created]),
    )
  );
}

export function renderVllm(engine: VllmEngine): string {
  const model = engine.node.model;
  const base: Labels = { engine: '0', model_name: model.name };
  const created = engine.createdAtMs / 1000;
  let out = '';
  out += gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', [
    [base, engine.running.length],
  ]);
  out += gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', [
    [base, engine.waiting.length],
  ]);
  out += gauge(
    'vllm:engine_sleep_state',
    'Engine sleep state; awake = 0 means engine is sleeping; awake = 1 means engine is awake; weights_offloaded = 1 means sleep level 1; discard_all = 1 means sleep level 2.',
    [
      [{ ...base, sleep_state: 'awake' }, 1],
      [{ ...base, sleep_state: 'weights_offloaded' }, 0],
      [{ ...base, sleep_state: 'discard_all' }, 0],
    ],
  );
  out += gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', [[base, engine.kvUsage()]]);
  for (const c of VLLM_COUNTERS) {
    out += counter(c.base, c.help, [[base, engine.counters[c.key]]], created);
    if (c.key === 'promptTokens') {
      out += counter(
        'vllm:prompt_tokens_by_source',
        'Number of prompt tokens by source.',
        PROMPT_TOKEN_SOURCES.map((s) => [{ ...base, source: s }, engine.promptTokensBySource[s]]),
        created,
      );
    }
  }
  out += counter(
    'vllm:request_success',
    'Count of successfully processed requests.',
    FINISHED_REASONS.map((r) => [{ ...base, finished_reason: r }, engine.finished[r]]),
    created,
  );
  for (const spec of VLLM_HISTOGRAMS) {
    const h = engine.histograms[spec.key];
    const cumulative = h.cumulative();
    const lines: FamilyLine[] = cumulative.map((c, i) => ({
      name: `${spec.name}_bucket`,
      labels: sortedLabels({ ...base, le: i < h.bounds.length ? pythonFloat(h.bounds[i]) : '+Inf' }),
      value: pythonFloat(c),
    }));
    lines.push({ name: `${spec.name}_count`, labels: sortedLabels(base), value: pythonFloat(h.count) });
    lines.push({ name: `${spec.name}_sum`, labels: sortedLabels(base), value: pythonFloat(h.sum) });
    out += familyBlock(spec.name, 'histogram', spec.help, lines);
    out += gauge(`${spec.name}_created`, spec.help, [[base, created]]);
  }
  out += gauge('vllm:cache_config_info', 'Information of the LLMEngine CacheConfig', [
    [
      {
        block_size: '16',
        cache_dtype: 'auto',
        enable_prefix_caching: 'True',
        engine: '0',
        gpu_memory_utilization: '0.9',
        num_gpu_blocks: String(Math.floor(model.kvCapacityTokens / 16)),
        prefix_caching_hash_algo: 'sha256',
        swap_space: '4.0',
      },
      1,
    ],
  ]);
  return out;
}
