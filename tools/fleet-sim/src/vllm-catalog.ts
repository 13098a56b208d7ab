/**
 * The vLLM V1 families the simulator serves, with the HELP texts and bucket bounds of a real
 * V1 scrape. python_*, process_* and http_* families are left out: they describe the API
 * server's Python process, not the fleet.
 */
const ONE_TWO_FIVE = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

/** Token-count histograms use 1-2-5 bounds up to max_model_len, so the top bound varies per model. */
export function tokenBuckets(maxModelLen: number): number[] {
  return ONE_TWO_FIVE.filter((b) => b <= maxModelLen);
}

export const ITERATION_TOKEN_BUCKETS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];
export const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0,
  640.0, 2560.0,
];
export const TOKEN_LATENCY_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
];
export const REQUEST_LATENCY_BUCKETS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0,
  7680.0,
];

export type VllmHistogramKey =
  | 'promptTokens'
  | 'generationTokens'
  | 'iterationTokens'
  | 'maxNumGenerationTokens'
  | 'paramsN'
  | 'paramsMaxTokens'
  | 'ttft'
  | 'interTokenLatency'
  | 'requestTpot'
  | 'e2e'
  | 'queueTime'
  | 'inferenceTime'
  | 'prefillTime'
  | 'decodeTime'
  | 'prefillKvComputedTokens';

export interface VllmHistogramSpec {
  key: VllmHistogramKey;
  name: string;
  help: string;
  /** 'tokens' = 1-2-5 up to max_model_len. */
  buckets: readonly number[] | 'tokens';
}

export const VLLM_HISTOGRAMS: readonly VllmHistogramSpec[] = [
  {
    key: 'promptTokens',
    name: 'vllm:request_prompt_tokens',
    help: 'Number of prefill tokens processed.',
    buckets: 'tokens',
  },
  {
    key: 'generationTokens',
    name: 'vllm:request_generation_tokens',
    help: 'Number of generation tokens processed.',
    buckets: 'tokens',
  },
  {
    key: 'iterationTokens',
    name: 'vllm:iteration_tokens_total',
    help: 'Histogram of number of tokens per engine_step.',
    buckets: ITERATION_TOKEN_BUCKETS,
  },
  {
    key: 'maxNumGenerationTokens',
    name: 'vllm:request_max_num_generation_tokens',
    help: 'Histogram of maximum number of requested generation tokens.',
    buckets: 'tokens',
  },
  {
    key: 'paramsN',
    name: 'vllm:request_params_n',
    help: 'Histogram of the n request parameter.',
    buckets: [1, 2, 5, 10, 20],
  },
  {
    key: 'paramsMaxTokens',
    name: 'vllm:request_params_max_tokens',
    help: 'Histogram of the max_tokens request parameter.',
    buckets: 'tokens',
  },
  {
    key: 'ttft',
    name: 'vllm:time_to_first_token_seconds',
    help: 'Histogram of time to first token in seconds.',
    buckets: TTFT_BUCKETS,
  },
  {
    key: 'interTokenLatency',
    name: 'vllm:inter_token_latency_seconds',
    help: 'Histogram of inter-token latency in seconds.',
    buckets: TOKEN_LATENCY_BUCKETS,
  },
  {
    key: 'requestTpot',
    name: 'vllm:request_time_per_output_token_seconds',
    help: 'Histogram of time_per_output_token_seconds per request.',
    buckets: TOKEN_LATENCY_BUCKETS,
  },
  {
    key: 'e2e',
    name: 'vllm:e2e_request_latency_seconds',
    help: 'Histogram of e2e request latency in seconds.',
    buckets: REQUEST_LATENCY_BUCKETS,
  },
  {
    key: 'queueTime',
    name: 'vllm:request_queue_time_seconds',
    help: 'Histogram of time spent in WAITING phase for request.',
    buckets: REQUEST_LATENCY_BUCKETS,
  },
  {
    key: 'inferenceTime',
    name: 'vllm:request_inference_time_seconds',
    help: 'Histogram of time spent in RUNNING phase for request.',
    buckets: REQUEST_LATENCY_BUCKETS,
  },
  {
    key: 'prefillTime',
    name: 'vllm:request_prefill_time_seconds',
    help: 'Histogram of time spent in PREFILL phase for request.',
    buckets: REQUEST_LATENCY_BUCKETS,
  },
  {
    key: 'decodeTime',
    name: 'vllm:request_decode_time_seconds',
    help: 'Histogram of time spent in DECODE phase for request.',
    buckets: REQUEST_LATENCY_BUCKETS,
  },
  {
    key: 'prefillKvComputedTokens',
    name: 'vllm:request_prefill_kv_computed_tokens',
    help: 'Histogram of new KV tokens computed during prefill (excluding cached tokens).',
    buckets: 'tokens',
  },
];

export type VllmCounterKey =
  | 'prefixCacheQueries'
  | 'prefixCacheHits'
  | 'numPreemptions'
  | 'promptTokens'
  | 'promptTokensCached'
  | 'generationTokens';

export interface VllmCounterSpec {
  key: VllmCounterKey;
  /** Base name; the wire name adds `_total`, and `_created` names the creation-time gauge. */
  base: string;
  help: string;
}

export const VLLM_COUNTERS: readonly VllmCounterSpec[] = [
  {
    key: 'prefixCacheQueries',
    base: 'vllm:prefix_cache_queries',
    help: 'Prefix cache queries, in terms of number of queried tokens.',
  },
  {
    key: 'prefixCacheHits',
    base: 'vllm:prefix_cache_hits',
    help: 'Prefix cache hits, in terms of number of cached tokens.',
  },
  { key: 'numPreemptions', base: 'vllm:num_preemptions', help: 'Cumulative number of preemption from the engine.' },
  { key: 'promptTokens', base: 'vllm:prompt_tokens', help: 'Number of prefill tokens processed.' },
  {
    key: 'promptTokensCached',
    base: 'vllm:prompt_tokens_cached',
    help: 'Number of cached prompt tokens (local + external).',
  },
  { key: 'generationTokens', base: 'vllm:generation_tokens', help: 'Number of generation tokens processed.' },
];

export const FINISHED_REASONS = ['stop', 'length', 'abort', 'error', 'repetition'] as const;
export type FinishedReason = (typeof FINISHED_REASONS)[number];

export const PROMPT_TOKEN_SOURCES = ['local_compute', 'local_cache_hit', 'external_kv_transfer'] as const;
export type PromptTokenSource = (typeof PROMPT_TOKEN_SOURCES)[number];
