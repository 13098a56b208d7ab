/**
 * Test data for the query and recording-rule specs: the real vLLM and DCGM fixture expositions,
 * turned into scrape batches by the collector's own scrape core at two known times, with the
 * second scrape advanced the way a busy fleet would (TTFT observations with a slow tail, prompt
 * tokens processed, one GPU's framebuffer filled) and one vLLM replica down. The specs compute
 * their expected values from the same fixture numbers and the deltas exported here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import type { MetricsBatchV1 } from '@arcwatch/contracts';
import type { SampleStore } from '@arcwatch/storage';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { SAMPLE_STORE } from '../database/sample-store.provider';
import { parseBody } from '../ingest/exposition';
import {
  buildScrapeBatch,
  EMPTY_STATE,
  type ScrapedSample,
  type ScrapeOptions,
  type TargetScrapeState,
} from '../scrape/scrape-batch';
import { hostOf, type ScrapeTarget } from '../scrape/target';

export const FIXTURE_FILES = {
  vllm: 'vllm/vllm-v1-qwen2.5-0.5b.k8s-ai-conformance-kops.metrics.txt',
  a100: 'dcgm-exporter/dcgm-exporter-GRID-A100-40C-vgpu.k8s-ai-conformance-vks.metrics.txt',
  l4: 'dcgm-exporter/dcgm-exporter-L4-driver580.k8s-ai-conformance-kops.metrics.txt',
} as const;

/** 2024-05-01T12:00:00Z and one minute later. */
export const T0_MS = 1_714_564_800_000;
export const T1_MS = T0_MS + 60_000;

export const TTFT = 'vllm:time_to_first_token_seconds';

/** Cumulative TTFT observations added between the scrapes, by bucket bound: 1000 requests, a slow tail. */
export const TTFT_ADDED: Readonly<Record<string, number>> = {
  '0.1': 200,
  '0.25': 500,
  '0.5': 700,
  '0.75': 750,
  '1.0': 800,
  '2.5': 900,
  '5.0': 950,
  '7.5': 980,
  '10.0': 995,
  '20.0': 1000,
};
export const TTFT_REQUESTS = 1000;
export const TTFT_SECONDS_ADDED = 2345.5;
export const PROMPT_TOKENS_ADDED = 120_000;
/** Share of the L4's free framebuffer in use at the second scrape. */
export const L4_FILL = 0.97;

export function fixtureText(file: string): string {
  return readFileSync(path.join(FIXTURES_DIR, file), 'utf8');
}

export function fixtureSamples(file: string): ScrapedSample[] {
  const parsed = parseBody(fixtureText(file), 'text/plain; version=0.0.4');
  if (parsed.errors.length > 0) throw new Error(`${file}: ${parsed.errors[0].message}`);
  return parsed.samples;
}

export function target(job: string, instance: string): ScrapeTarget {
  return {
    key: `${job}/${instance}`,
    jobName: job,
    url: `http://${instance}/metrics`,
    instance,
    labels: { job, instance },
    node: hostOf(instance),
  };
}

const OPTIONS: ScrapeOptions = {
  honorLabels: false,
  honorTimestamps: false,
  sampleLimit: 0,
  seriesLimit: 0,
  metricRules: [],
};

function bucketAdded(le: string): number {
  if (le === '+Inf') return TTFT_REQUESTS;
  let added = 0;
  for (const [bound, count] of Object.entries(TTFT_ADDED))
    if (Number(bound) <= Number(le)) added = Math.max(added, count);
  return added;
}

/** The vLLM fixture one minute later: every TTFT bucket, its count and sum, and prompt tokens advanced. */
export function advanceVllm(samples: readonly ScrapedSample[]): ScrapedSample[] {
  return samples.map((s) => {
    if (s.name === `${TTFT}_bucket`) return { ...s, value: s.value + bucketAdded(s.labels.le) };
    if (s.name === `${TTFT}_count`) return { ...s, value: s.value + TTFT_REQUESTS };
    if (s.name === `${TTFT}_sum`) return { ...s, value: s.value + TTFT_SECONDS_ADDED };
    if (s.name === 'vllm:prompt_tokens_total') return { ...s, value: s.value + PROMPT_TOKENS_ADDED };
    return s;
  });
}

/** The L4 fixture with L4_FILL of its free framebuffer now used. */
export function fillFramebuffer(samples: readonly ScrapedSample[]): ScrapedSample[] {
  const free = samples.find((s) => s.name === 'DCGM_FI_DEV_FB_FREE')?.value ?? 0;
  const moved = Math.round(free * L4_FILL);
  return samples.map((s) => {
    if (s.name === 'DCGM_FI_DEV_FB_USED') return { ...s, value: s.value + moved };
    if (s.name === 'DCGM_FI_DEV_FB_FREE') return { ...s, value: s.value - moved };
    return s;
  });
}

/** Scrapes of one target at successive times, each batch built from the previous state. */
function scrapes(t: ScrapeTarget, outcomes: Array<[number, ScrapedSample[] | string]>): MetricsBatchV1[] {
  let previous: TargetScrapeState = EMPTY_STATE;
  return outcomes.map(([startMs, outcome]) => {
    const r = buildScrapeBatch({
      cluster: 'test',
      target: t,
      options: OPTIONS,
      startMs,
      durationMs: 120,
      outcome: typeof outcome === 'string' ? { ok: false, error: outcome } : { ok: true, samples: outcome },
      previous,
    });
    previous = r.state;
    return r.batch;
  });
}

export const INSTANCES = {
  vllm: 'vllm-0:8000',
  vllmDown: 'vllm-1:8000',
  a100: 'gpu-a100-0:9400',
  l4: 'gpu-l4-0:9400',
} as const;

/** Every batch of the fleet: two scrapes each, vllm-1 refusing connections both times. */
export function llmFleetBatches(): MetricsBatchV1[] {
  const vllm = fixtureSamples(FIXTURE_FILES.vllm);
  const a100 = fixtureSamples(FIXTURE_FILES.a100);
  const l4 = fixtureSamples(FIXTURE_FILES.l4);
  const refused = 'connect ECONNREFUSED';
  return [
    ...scrapes(target('vllm', INSTANCES.vllm), [
      [T0_MS, vllm],
      [T1_MS, advanceVllm(vllm)],
    ]),
    ...scrapes(target('vllm', INSTANCES.vllmDown), [
      [T0_MS, refused],
      [T1_MS, refused],
    ]),
    ...scrapes(target('dcgm', INSTANCES.a100), [
      [T0_MS, a100],
      [T1_MS, a100],
    ]),
    ...scrapes(target('dcgm', INSTANCES.l4), [
      [T0_MS, l4],
      [T1_MS, fillFramebuffer(l4)],
    ]),
  ];
}

/**
 * Stores the fleet through the collector's own SampleStore, the one the writer uses: a second
 * pool on the test database would still be closing when the database is dropped.
 */
export async function storeFleet(app: INestApplicationContext): Promise<void> {
  const store = app.get<SampleStore>(SAMPLE_STORE);
  for (const batch of llmFleetBatches()) await store.appendBatch(batch);
}
