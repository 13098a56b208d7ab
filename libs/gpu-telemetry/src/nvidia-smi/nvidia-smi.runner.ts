import { spawn } from 'node:child_process';

/**
 * Runs nvidia-smi (or a stand-in) with a deadline. A hung nvidia-smi (a GPU that stopped
 * answering holds the driver lock) is killed with its whole process group, and the call returns
 * at the deadline without waiting for pipes a grandchild may still hold open.
 */
export type NvidiaSmiErrorCode =
  'NVSMI_NOT_FOUND' | 'NVSMI_TIMEOUT' | 'NVSMI_DRIVER' | 'NVSMI_NO_DEVICES' | 'NVSMI_INVALID_FIELD' | 'NVSMI_FAILED';

export class NvidiaSmiError extends Error {
  constructor(
    readonly code: NvidiaSmiErrorCode,
    message: string,
    readonly exitCode?: number,
  ) {
    super(message);
    this.name = 'NvidiaSmiError';
  }
}

export interface RunOptions {
  /** Path of nvidia-smi (default: `nvidia-smi` from PATH). */
  binary?: string;
  timeoutMs?: number;
  /** Output beyond this is an error (a runaway stand-in must not eat the agent's memory). */
  maxBytes?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * What nvidia-smi's messages and exit codes mean (nvidia-smi(1), RETURN VALUE: 6 query
 * unsuccessful, 9 driver not loaded, 12 NVML library not found, 15 GPU fallen off the bus).
 */
export function classifyFailure(exitCode: number | null, output: string): NvidiaSmiError {
  const text = output.trim().split(/\r?\n/).slice(0, 3).join(' ');
  if (
    /couldn't communicate with the NVIDIA driver|NVIDIA driver is not loaded|Driver\/library version mismatch/i.test(
      output,
    )
  ) {
    return new NvidiaSmiError('NVSMI_DRIVER', text, exitCode ?? undefined);
  }
  if (/No devices were found/i.test(output)) return new NvidiaSmiError('NVSMI_NO_DEVICES', text, exitCode ?? undefined);
  if (/is not a valid field to query/.test(output))
    return new NvidiaSmiError('NVSMI_INVALID_FIELD', text, exitCode ?? undefined);
  if (exitCode === 9 || exitCode === 12)
    return new NvidiaSmiError('NVSMI_DRIVER', text || `exit ${exitCode}`, exitCode);
  return new NvidiaSmiError('NVSMI_FAILED', text || `exit ${exitCode ?? 'by signal'}`, exitCode ?? undefined);
}

export function runNvidiaSmi(args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const binary = opts.binary ?? 'nvidia-smi';
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    let settled = false;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const child = spawn(binary, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: opts.env ?? process.env,
    });
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const finish = (e: Error | undefined, value?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (e) reject(e);
      else resolve(value!);
    };
    const timer = setTimeout(() => {
      killGroup();
      child.stdout.destroy();
      child.stderr.destroy();
      finish(new NvidiaSmiError('NVSMI_TIMEOUT', `${binary} ${args.join(' ')} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const take = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        killGroup();
        finish(new NvidiaSmiError('NVSMI_FAILED', `output over ${maxBytes} bytes`));
        return;
      }
      into.push(chunk);
    };
    child.stdout.on('data', take(out));
    child.stderr.on('data', take(err));
    child.on('error', (e: NodeJS.ErrnoException) => {
      finish(
        e.code === 'ENOENT'
          ? new NvidiaSmiError('NVSMI_NOT_FOUND', `${binary} not found (no NVIDIA driver on this node?)`)
          : new NvidiaSmiError('NVSMI_FAILED', e.message),
      );
    });
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      if (code === 0) return finish(undefined, stdout);
      finish(classifyFailure(code, `${stdout}\n${Buffer.concat(err).toString('utf8')}`));
    });
  });
}
