import path from 'node:path';
import { REPO_ROOT } from '@arcwatch/testing';
import { loadScrapeConfigFile } from './scrape-config.loader';

describe('infra/collector.yml, the example the docs start from', () => {
  it('loads with its three jobs and their intervals', () => {
    const s = loadScrapeConfigFile(path.join(REPO_ROOT, 'infra/collector.yml'));
    expect([s.cluster, s.warnings]).toEqual(['local', []]);
    expect(s.jobs.map((j) => [j.jobName, j.intervalMs, j.timeoutMs])).toEqual([
      ['dcgm', 5_000, 5_000],
      ['node', 15_000, 10_000],
      ['vllm', 5_000, 5_000],
    ]);
  });
});
