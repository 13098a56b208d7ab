import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { parseExposition } from './exposition-parser';
import { sampleLabels } from './labels';
import type { ExpositionFormat, MetricType } from './types';

/**
 * Every exposition file among the shared fixtures parses with exact counts. The expected numbers
 * were derived without this parser and agree with two real ones:
 * - samples: lines that are neither blank nor start with `#` (`grep -v '^#' F | grep -vc '^\s*$'`);
 *   none of these files has blank lines or samples split across lines;
 * - families: distinct names on `# HELP`/`# TYPE` lines (`awk '{print $3}' | sort -u`); every
 *   sample's family is declared, so no implicit untyped families appear;
 * - series: distinct sample lines without their value (`sed 's/ [^ ]*$//' | sort -u`): no file
 *   has timestamps, so every sample is its own series;
 * - the Debian `prometheus_client` 0.16 text parser reports the same family and sample counts,
 *   and `promtool check metrics` (2.42) accepts every text 0.0.4 file (lint notes only).
 * TGI has no real scrape among the fixtures (its SOURCES.md says so); its counter naming is
 * covered in exposition-parser.spec.ts.
 */
interface Expected {
  file: string;
  format: ExpositionFormat;
  families: number;
  series: number;
  samples: number;
  types: Partial<Record<MetricType, number>>;
}

const EXPECTED: Expected[] = [
  {
    file: 'dcgm-exporter/dcgm-exporter-GRID-A100-40C-vgpu.k8s-ai-conformance-vks.metrics.txt',
    format: 'prometheus',
    families: 11,
    series: 11,
    samples: 11,
    types: { gauge: 11 },
  },
  {
    file: 'dcgm-exporter/dcgm-exporter-L4-driver580.k8s-ai-conformance-kops.metrics.txt',
    format: 'prometheus',
    families: 23,
    series: 23,
    samples: 23,
    types: { gauge: 19, counter: 4 },
  },
  // 83 families: 21 counters, 43 gauges (including the `*_created` gauges of the Python client),
  // 17 histograms, 2 summaries; 4 families have HELP/TYPE but no samples.
  {
    file: 'vllm/vllm-v1-qwen2.5-0.5b.k8s-ai-conformance-kops.metrics.txt',
    format: 'prometheus',
    families: 83,
    series: 395,
    samples: 395,
    types: { counter: 21, gauge: 43, histogram: 17, summary: 2 },
  },
  {
    file: 'sglang/sglang-docs-production_metrics.example.metrics.txt',
    format: 'prometheus',
    families: 12,
    series: 91,
    samples: 91,
    types: { counter: 2, gauge: 6, histogram: 4 },
  },
  // Two free-text `#` comment lines at the top are comments in text 0.0.4, not errors.
  {
    file: 'sglang/datadog-integrations-core.sglang_metrics.txt',
    format: 'prometheus',
    families: 25,
    series: 43,
    samples: 43,
    types: { gauge: 15, counter: 4, histogram: 6 },
  },
  // SOURCES.md: 283 families = 175 gauge, 60 counter, 47 untyped, 1 summary.
  {
    file: 'node-exporter/node-exporter-1.5.0-debian12.metrics.txt',
    format: 'prometheus',
    families: 283,
    series: 507,
    samples: 507,
    types: { gauge: 175, counter: 60, untyped: 47, summary: 1 },
  },
  {
    file: 'node-exporter/node-exporter-1.5.0-debian12.second-scrape-15s-later.metrics.txt',
    format: 'prometheus',
    families: 283,
    series: 507,
    samples: 507,
    types: { gauge: 175, counter: 60, untyped: 47, summary: 1 },
  },
  {
    file: 'prometheus-exposition/prometheus-alltypes.237mfs.prom.txt',
    format: 'prometheus',
    families: 237,
    series: 1857,
    samples: 1857,
    types: { counter: 112, gauge: 97, summary: 13, histogram: 15 },
  },
  {
    file: 'prometheus-exposition/promtool-metrics-test.prom',
    format: 'prometheus',
    families: 4,
    series: 27,
    samples: 27,
    types: { counter: 1, gauge: 1, histogram: 1, summary: 1 },
  },
  {
    file: 'prometheus-exposition/prometheus-1histogram.om.txt',
    format: 'openmetrics',
    families: 1,
    series: 42,
    samples: 42,
    types: { histogram: 1 },
  },
  {
    file: 'prometheus-exposition/prometheus-alltypes.5mfs.om.txt',
    format: 'openmetrics',
    families: 5,
    series: 53,
    samples: 53,
    types: { counter: 2, gauge: 1, histogram: 1, summary: 1 },
  },
];

function read(file: string): string {
  return fs.readFileSync(path.join(FIXTURES_DIR, file), 'utf8');
}

function countTypes(types: MetricType[]): Partial<Record<MetricType, number>> {
  const counts: Partial<Record<MetricType, number>> = {};
  for (const t of types) counts[t] = (counts[t] ?? 0) + 1;
  return counts;
}

describe('real scrapes', () => {
  it.each(EXPECTED.map((e) => [e.file, e] as const))('%s', (_file, e) => {
    const result = parseExposition(read(e.file), { format: e.format });
    const series = new Set(result.samples.map((s) => JSON.stringify(Object.entries(sampleLabels(s)).sort())));
    expect(result.families.length).toBe(e.families);
    expect(result.samples.length).toBe(e.samples);
    expect(series.size).toBe(e.series);
    expect(countTypes(result.families.map((f) => f.type))).toEqual(e.types);
    expect(result.dropped).toBe(0);
    if (!e.file.endsWith('alltypes.5mfs.om.txt')) expect(result.errors).toEqual([]);
  });

  it('reports where the Prometheus-generated OpenMetrics sample breaks OpenMetrics rules, keeping every sample', () => {
    // client_golang wrote negative `_sum`s and negative quantile values, which OpenMetrics forbids
    // (the Python reference parser refuses this file as well).
    const result = parseExposition(read('prometheus-exposition/prometheus-alltypes.5mfs.om.txt'), {
      format: 'openmetrics',
    });
    expect(result.errors.map((e) => [e.line, e.message])).toEqual([
      [33, '_sum cannot be negative'],
      [35, 'rpc_durations_histogram_seconds: _sum with negative bucket bounds'],
      [44, 'quantile values cannot be negative'],
      [47, '_sum cannot be negative'],
    ]);
    expect(result.errors.every((e) => e.code === 'semantic')).toBe(true);
  });

  it('reads vLLM V1 names with colons, `_created` gauges, and a histogram without samples', () => {
    const result = parseExposition(read('vllm/vllm-v1-qwen2.5-0.5b.k8s-ai-conformance-kops.metrics.txt'));
    const kv = result.samples.find((s) => s.name === 'vllm:kv_cache_usage_perc');
    expect(kv?.labels).toEqual({ engine: '0', model_name: 'Qwen/Qwen2.5-0.5B-Instruct' });
    const created = result.samples.find((s) => s.name === 'vllm:estimated_flops_per_gpu_created');
    expect(created?.value).toBe(1.7740114612872875e9);
    expect(result.families[created!.family]).toMatchObject({
      name: 'vllm:estimated_flops_per_gpu_created',
      type: 'gauge',
    });
    const ttft = result.families.findIndex((f) => f.name === 'vllm:time_to_first_token_seconds');
    const buckets = result.samples.filter((s) => s.family === ttft && s.name.endsWith('_bucket'));
    expect(buckets.at(-1)?.labels.le).toBe('+Inf');
    const empty = result.families.findIndex((f) => f.name === 'http_request_duration_seconds');
    expect(result.families[empty].type).toBe('histogram');
    expect(result.samples.some((s) => s.family === empty)).toBe(false);
  });

  it('reads DCGM label sets, including the driver version carried as a label', () => {
    const result = parseExposition(
      read('dcgm-exporter/dcgm-exporter-GRID-A100-40C-vgpu.k8s-ai-conformance-vks.metrics.txt'),
    );
    const util = result.samples.find((s) => s.name === 'DCGM_FI_DEV_FB_FREE');
    expect(util?.value).toBe(37739);
    expect(util?.labels).toMatchObject({ gpu: '0', modelName: 'GRID A100-40C', DCGM_FI_DRIVER_VERSION: '580.126.09' });
    // One label object for the one GPU, shared by all its samples.
    expect(new Set(result.samples.map((s) => s.labels)).size).toBe(1);
  });

  it('parses the second node-exporter scrape to the same series with moved counters', () => {
    const a = parseExposition(read('node-exporter/node-exporter-1.5.0-debian12.metrics.txt'));
    const b = parseExposition(read('node-exporter/node-exporter-1.5.0-debian12.second-scrape-15s-later.metrics.txt'));
    const key = (s: (typeof a.samples)[number]) => JSON.stringify(Object.entries(sampleLabels(s)).sort());
    expect(new Set(b.samples.map(key))).toEqual(new Set(a.samples.map(key)));
    const cpuA = a.samples.find(
      (s) => s.name === 'node_cpu_seconds_total' && s.labels.mode === 'idle' && s.labels.cpu === '0',
    );
    const cpuB = b.samples.find(
      (s) => s.name === 'node_cpu_seconds_total' && s.labels.mode === 'idle' && s.labels.cpu === '0',
    );
    expect(cpuB!.value).toBeGreaterThan(cpuA!.value);
  });
});
