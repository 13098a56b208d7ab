import { authFetch, getJson } from '@arcwatch/testing';
import { startCollector, type CollectorHarness } from '../testing/harness';
import {
  FIXTURE_FILES,
  fixtureText,
  INSTANCES,
  L4_FILL,
  PROMPT_TOKENS_ADDED,
  storeFleet,
  T0_MS,
  T1_MS,
  TTFT,
  TTFT_ADDED,
  TTFT_REQUESTS,
} from './llm-fleet.fixture';

/**
 * The classic LLM-serving expressions through /api/v1/query, over the real vLLM and DCGM
 * fixtures stored at two scrape times. Expected values are worked out here from the fixture text
 * (read with a regex, not with the collector's parser) and the deltas the second scrape added.
 */
type Sample = { metric: Record<string, string>; value: [number, string] };
type Series = { metric: Record<string, string>; values: Array<[number, string]> };
type ApiBody<T> = {
  status: string;
  data: { resultType: string; result: T };
  errorType?: string;
  error?: string;
  warnings?: string[];
};

/** First value of a metric in an exposition, read naively (the fixtures have one GPU each). */
function fixtureValue(text: string, name: string): number {
  const m = new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} not in fixture`);
  return Number(m[1]);
}

/** Labels of the first sample of a metric in an exposition. */
function fixtureLabels(text: string, name: string): Record<string, string> {
  const m = new RegExp(`^${name}\\{([^}]*)\\}`, 'm').exec(text);
  if (!m) throw new Error(`${name} not in fixture`);
  return Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
}

/**
 * Prometheus's histogram_quantile on cumulative bucket counts: the bucket that holds rank
 * q·total, interpolated linearly inside it. rate() scales every bucket by the same factor here
 * (all buckets start from the fixture's 0), so the increases give the same quantile.
 */
function quantile(q: number, buckets: Array<[number, number]>): number {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted[sorted.length - 1][1];
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (bound === Infinity) return prevBound;
      return prevBound + (bound - prevBound) * ((rank - prevCount) / (count - prevCount));
    }
    prevBound = bound;
    prevCount = count;
  }
  return NaN;
}

describe('LLM-serving expressions over stored fixture scrapes', () => {
  let collector: CollectorHarness;
  const vllmText = fixtureText(FIXTURE_FILES.vllm);
  const l4Text = fixtureText(FIXTURE_FILES.l4);

  const query = <T>(expr: string, timeMs: number): Promise<{ status: number; body: ApiBody<T> }> =>
    getJson<ApiBody<T>>(
      `${collector.url}/api/v1/query?${new URLSearchParams({ query: expr, time: String(timeMs / 1000) })}`,
    );

  beforeAll(async () => {
    collector = await startCollector();
    await storeFleet(collector.app);
  });

  afterAll(async () => {
    await collector?.stop();
  });

  it('finds the vLLM replica that is down: up{job="vllm"} == 0', async () => {
    const { status, body } = await query<Sample[]>('up{job="vllm"} == 0', T1_MS);
    expect(status).toBe(200);
    expect(body).toEqual({
      status: 'success',
      data: {
        resultType: 'vector',
        result: [{ metric: { __name__: 'up', job: 'vllm', instance: INSTANCES.vllmDown }, value: [T1_MS / 1000, '0'] }],
      },
    });
  });

  it('alerts on a p99 time to first token above 5 s, with the quantile the buckets give', async () => {
    const before = [...vllmText.matchAll(new RegExp(`^${TTFT}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\S+)$`, 'gm'))].map(
      (m) => [m[1], Number(m[2])] as const,
    );
    expect(before).toHaveLength(23);
    const increases: Array<[number, number]> = before.map(([le, v0]) => {
      const bound = le === '+Inf' ? Infinity : Number(le);
      const added =
        le === '+Inf'
          ? TTFT_REQUESTS
          : Math.max(
              0,
              ...Object.entries(TTFT_ADDED)
                .filter(([b]) => Number(b) <= bound)
                .map(([, c]) => c),
            );
      return [bound, v0 + added - v0];
    });
    const expected = quantile(0.99, increases);
    expect(expected).toBeCloseTo(7.5 + (2.5 * 10) / 15, 10);

    const { body } = await query<Sample[]>(`histogram_quantile(0.99, rate(${TTFT}_bucket[5m])) > 5`, T1_MS);
    expect(body.status).toBe('success');
    expect(body.data.result).toHaveLength(1);
    const [sample] = body.data.result;
    expect(sample.metric).toEqual({
      ...fixtureLabels(vllmText, `${TTFT}_bucket`),
      le: undefined,
      job: 'vllm',
      instance: INSTANCES.vllm,
    });
    expect(Number(sample.value[1])).toBeCloseTo(expected, 9);

    const atFirstScrape = await query<Sample[]>(`histogram_quantile(0.99, rate(${TTFT}_bucket[5m])) > 5`, T0_MS);
    expect(atFirstScrape.body.data.result).toEqual([]);
  });

  it('alerts on a GPU whose framebuffer is over 95 % used, and only that one', async () => {
    const free = fixtureValue(l4Text, 'DCGM_FI_DEV_FB_FREE');
    const used = fixtureValue(l4Text, 'DCGM_FI_DEV_FB_USED');
    const moved = Math.round(free * L4_FILL);
    const expected = ((used + moved) / (used + moved + (free - moved))) * 100;
    expect(expected).toBeGreaterThan(95);

    const { body } = await query<Sample[]>(
      '(DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)) * 100 > 95',
      T1_MS,
    );
    expect(body.data.result).toHaveLength(1);
    const [sample] = body.data.result;
    expect(sample.metric).toEqual({
      ...fixtureLabels(l4Text, 'DCGM_FI_DEV_FB_USED'),
      job: 'dcgm',
      instance: INSTANCES.l4,
    });
    expect(Number(sample.value[1])).toBeCloseTo(expected, 9);

    const all = await query<Sample[]>(
      '(DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)) * 100',
      T1_MS,
    );
    expect(Object.fromEntries(all.body.data.result.map((s) => [s.metric.instance, Number(s.value[1])]))).toEqual({
      [INSTANCES.a100]: 0,
      [INSTANCES.l4]: expect.closeTo(expected, 9),
    });
  });

  it('answers a range query with the prompt-token rate once two scrapes are in the window', async () => {
    const form = new URLSearchParams({
      query: 'sum by (model_name) (rate(vllm:prompt_tokens_total[5m]))',
      start: String(T0_MS / 1000),
      end: String(T1_MS / 1000),
      step: '30s',
    });
    const res = await authFetch(`${collector.url}/api/v1/query_range`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ApiBody<Series[]>;
    // Both samples start from the fixture's 0, so rate() does not extrapolate before the first one.
    expect(body.data).toEqual({
      resultType: 'matrix',
      result: [
        {
          metric: { model_name: fixtureLabels(vllmText, 'vllm:prompt_tokens_total').model_name },
          values: [[T1_MS / 1000, String(PROMPT_TOKENS_ADDED / 300)]],
        },
      ],
    });
  });

  it('answers errors exactly as Prometheus does', async () => {
    const parse = await query<never>('sum(rate(vllm:prompt_tokens_total[5m])', T1_MS);
    expect(parse.status).toBe(400);
    expect(parse.body).toMatchObject({ status: 'error', errorType: 'bad_data' });
    expect(parse.body.error).toMatch(/^invalid parameter "query": 1:\d+: parse error: /);

    const duplicate = await query<never>('{__name__=~"DCGM_FI_DEV_FB_(USED|FREE)"} * 1', T1_MS);
    expect(duplicate.status).toBe(422);
    expect(duplicate.body).toEqual({
      status: 'error',
      errorType: 'execution',
      error: 'vector cannot contain metrics with the same labelset',
    });

    const badTime = await authFetch(`${collector.url}/api/v1/query?query=up&time=noon`);
    expect(badTime.status).toBe(400);
    expect(await badTime.json()).toEqual({
      status: 'error',
      errorType: 'bad_data',
      error: 'invalid parameter "time": cannot parse "noon" to a valid timestamp',
    });

    const tooMany = await authFetch(`${collector.url}/api/v1/query_range?query=up&start=0&end=11001&step=1`);
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as { error: string }).error).toBe(
      'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    );

    const params = new URLSearchParams({
      query: '{__name__=~".+"}',
      start: String(T0_MS / 1000),
      end: String(T1_MS / 1000),
      step: '1',
      timeout: '0.001',
    });
    const timeout = await authFetch(`${collector.url}/api/v1/query_range?${params}`);
    expect(timeout.status).toBe(503);
    expect(await timeout.json()).toMatchObject({ status: 'error', errorType: 'timeout' });
  });
});
