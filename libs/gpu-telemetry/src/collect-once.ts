import * as os from 'node:os';
import { collectGpus } from './collect';
import { GpuReader } from './nvidia-smi/gpu-reader';
import type { NvidiaSmiError } from './nvidia-smi/nvidia-smi.runner';

export interface CollectOnceOptions {
  nvidiaSmi?: string;
  hostname?: string;
  timeoutMs?: number;
  nvlink?: boolean;
  timeSliceReplicas?: number;
  env?: NodeJS.ProcessEnv;
}

export interface CollectOnceResult {
  /** Prometheus text 0.0.4: the GPU series as the agent would publish them, plus its read status. */
  text: string;
  error?: NvidiaSmiError;
  problems: string[];
}

/** One reading of the node's GPUs as exposition text (`arcwatch agent --once`). */
export async function collectOnce(o: CollectOnceOptions = {}): Promise<CollectOnceResult> {
  const reader = new GpuReader({
    binary: o.nvidiaSmi,
    timeoutMs: o.timeoutMs ?? 5000,
    nvlink: o.nvlink ?? true,
    nvlinkEveryMs: 0,
    xmlEveryMs: 0,
    env: o.env,
  });
  const started = performance.now();
  const c = await collectGpus(
    reader,
    { hostname: o.hostname ?? os.hostname(), timeSliceReplicas: o.timeSliceReplicas },
    Date.now(),
    () => performance.now() - started,
  );
  return { text: c.set.toExposition(), problems: c.problems, ...(c.error ? { error: c.error } : {}) };
}
