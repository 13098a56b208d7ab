import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { TEST_ADMIN_TOKEN } from '@arcwatch/testing';
import { startCollector, type CollectorHarness } from '../testing/harness';
import { INSTANCES, PROMPT_TOKENS_ADDED, storeFleet, T0_MS, T1_MS } from './llm-fleet.fixture';

/**
 * promtool (Prometheus's own client, Go's client_golang underneath: POST form bodies, its own
 * time formatting, strict JSON decoding) against the query API over stored fixture scrapes.
 * promtool 2.42's query commands have no authorization flag: the token goes as the password of
 * the server URL (basic auth, which the access guard reads as the token).
 */
const PROMTOOL = '/usr/bin/promtool';
const run = promisify(execFile);

describe('promtool as a client of the query API', () => {
  let collector: CollectorHarness;
  let serverUrl: string;

  const promtool = async (...args: string[]): Promise<string> => {
    const { stdout } = await run(PROMTOOL, args, { timeout: 20_000 });
    return stdout.trim();
  };

  beforeAll(async () => {
    if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is needed for this test (the prometheus package)`);
    collector = await startCollector();
    await storeFleet(collector.app);
    const u = new URL(collector.url);
    u.username = 'promtool';
    u.password = TEST_ADMIN_TOKEN;
    serverUrl = u.toString().replace(/\/$/, '');
  });

  afterAll(async () => {
    await collector?.stop();
  });

  it('query instant: the down replica and the token rate', async () => {
    expect(await promtool('query', 'instant', '--time', String(T1_MS / 1000), serverUrl, 'up{job="vllm"} == 0')).toBe(
      `up{instance="${INSTANCES.vllmDown}", job="vllm"} => 0 @[${T1_MS / 1000}]`,
    );
    const json = JSON.parse(
      await promtool(
        'query',
        'instant',
        '-o',
        'json',
        '--time',
        new Date(T1_MS).toISOString(),
        serverUrl,
        'sum(rate(vllm:prompt_tokens_total[5m]))',
      ),
    ) as Array<{ value: [number, string] }>;
    expect(json).toEqual([{ metric: {}, value: [T1_MS / 1000, String(PROMPT_TOKENS_ADDED / 300)] }]);
  });

  it('query range: one point per step where the window holds two scrapes', async () => {
    const out = await promtool(
      'query',
      'range',
      '--start',
      String(T0_MS / 1000),
      '--end',
      String(T1_MS / 1000),
      '--step',
      '30s',
      serverUrl,
      'sum(rate(vllm:prompt_tokens_total[5m]))',
    );
    expect(out).toBe(`{} =>\n${PROMPT_TOKENS_ADDED / 300} @[${T1_MS / 1000}]`);
    const gpu = await promtool(
      'query',
      'range',
      '--start',
      String(T0_MS / 1000),
      '--end',
      String(T1_MS / 1000),
      '--step',
      '1m',
      serverUrl,
      'count(DCGM_FI_DEV_FB_USED)',
    );
    expect(gpu).toBe(`{} =>\n2 @[${T0_MS / 1000}]\n2 @[${T1_MS / 1000}]`);
  });

  it('query series: the series a matcher selects', async () => {
    const out = await promtool(
      'query',
      'series',
      '--match',
      'up{job="vllm"}',
      '--start',
      String(T0_MS / 1000),
      '--end',
      String(T1_MS / 1000),
      serverUrl,
    );
    expect(out.split('\n').sort()).toEqual([
      `{__name__="up", instance="${INSTANCES.vllm}", job="vllm"}`,
      `{__name__="up", instance="${INSTANCES.vllmDown}", job="vllm"}`,
    ]);
  });

  it('query labels: the values of a label, in the window promtool asks for', async () => {
    const window = ['--start', String(T0_MS / 1000), '--end', String(T1_MS / 1000)];
    const jobs = await promtool('query', 'labels', ...window, serverUrl, 'job');
    expect(jobs.split('\n')).toEqual(['dcgm', 'vllm']);
    const instances = await promtool(
      'query',
      'labels',
      ...window,
      '--match',
      'DCGM_FI_DEV_FB_USED',
      serverUrl,
      'instance',
    );
    expect(instances.split('\n')).toEqual([INSTANCES.a100, INSTANCES.l4]);
    // without --start / --end promtool asks for the last five minutes, where the fixture has nothing
    expect(await promtool('query', 'labels', serverUrl, 'job')).toBe('');
  });

  it("reports the server's parse error", async () => {
    await expect(promtool('query', 'instant', serverUrl, 'sum(up')).rejects.toMatchObject({
      stderr: expect.stringContaining('bad_data: invalid parameter "query": 1:7: parse error'),
    });
  });
});
