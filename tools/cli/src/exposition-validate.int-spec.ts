import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { FIXTURES_DIR, REPO_ROOT } from '@arcwatch/testing';

/** The real binary, as a person runs it: `npx arcwatch exposition validate FILE`. */
function arcwatch(...args: string[]) {
  return spawnSync('npx', ['arcwatch', 'exposition', 'validate', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('npx arcwatch exposition validate', () => {
  it('exits 0 on a real vLLM scrape and 1 with FILE:LINE on an invalid OpenMetrics body', () => {
    const good = path.join(FIXTURES_DIR, 'vllm', 'vllm-v1-qwen2.5-0.5b.k8s-ai-conformance-kops.metrics.txt');
    const ok = arcwatch(good);
    expect(ok.status).toBe(0);
    expect(ok.stdout.trim()).toBe(`${good}: 395 samples in 83 families (prometheus)`);

    const bad = path.join(FIXTURES_DIR, 'openmetrics-parsers', 'cases', 'bad_blank_line', 'metrics');
    const failed = arcwatch('--format', 'openmetrics', bad);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain(`${bad}:2: blank line`);

    expect(arcwatch().status).toBe(2);
  });
});
