import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseExposition } from '@arcwatch/exposition';
import { REPO_ROOT } from '@arcwatch/testing';

const STAND_IN = path.join(REPO_ROOT, 'libs', 'gpu-telemetry', 'fixtures', 'nvidia-smi', 'nvidia-smi');
const BIN = path.join(REPO_ROOT, 'tools', 'cli', 'bin', 'arcwatch.js');

/** `arcwatch agent --once` as a shell runs it, its stdout through `pipe` (a shell pipeline). */
function viaShell(scenario: string, pipe: string, extra = '') {
  const cmd = `node ${BIN} agent --once --nvidia-smi ${STAND_IN} --hostname gpu-node-001 ${extra} | ${pipe}`;
  return spawnSync('bash', ['-o', 'pipefail', '-c', cmd], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NVIDIA_SMI_FIXTURE: scenario },
    maxBuffer: 64 * 1024 * 1024,
  });
}

describe('arcwatch agent --once', () => {
  it('prints every series of an 8-GPU node through a slow pipe, nothing lost', () => {
    // The reader starts late, so the output is still in flight when the command finishes.
    const r = viaShell('h100x8', '(sleep 1; cat)');
    expect(r.status).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(65536);
    const parsed = parseExposition(r.stdout, { format: 'prometheus' });
    expect(parsed.errors).toEqual([]);
    const names = (n: string) => parsed.samples.filter((s) => s.name === n);
    expect(names('DCGM_FI_DEV_GPU_UTIL')).toHaveLength(8);
    expect(names('arcwatch_gpu_nvlink_bytes_total')).toHaveLength(8 * 18 * 2);
    expect(names('arcwatch_agent_gpus').map((s) => s.value)).toEqual([8]);
    // The last family written is there in full.
    expect(names('arcwatch_agent_gpu_read_duration_seconds')).toHaveLength(1);
  });

  it('survives a reader that leaves early', () => {
    const r = viaShell('h100x8', 'head -n 1');
    expect(r.stdout).toBe('# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n');
    expect(r.stderr).toBe('');
  });

  it('exits 1 with the driver error, 0 with zero GPUs on a node without any, 1 on a hang', () => {
    const broken = viaShell('driver-error', 'cat');
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain(
      "NVSMI_DRIVER: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver",
    );
    expect(broken.stdout).toContain('arcwatch_agent_gpu_read_success{Hostname="gpu-node-001"} 0');

    const none = viaShell('no-gpu', 'cat');
    expect(none.status).toBe(0);
    expect(none.stdout).toContain('arcwatch_agent_gpus{Hostname="gpu-node-001"} 0');

    const hung = viaShell('hang', 'cat', '--timeout-ms 500');
    expect(hung.status).toBe(1);
    expect(hung.stderr).toContain('NVSMI_TIMEOUT');
  });
});
