import { parseArgs } from 'node:util';
import { collectOnce } from '@arcwatch/gpu-telemetry';
import type { Command } from './main';

const USAGE = `usage: arcwatch agent --once [--nvidia-smi PATH] [--hostname NAME] [--timeout-ms N] [--no-nvlink] [--replicas N]

Reads this node's GPUs once through nvidia-smi, as the agent does every interval, and prints the
series it would publish (dcgm-exporter's names and labels) as Prometheus text. A node without
GPUs prints the agent's status series with arcwatch_agent_gpus 0. Exit 1 when nvidia-smi fails
(driver error, timeout). The agent itself runs as services/agent.`;

/** Waits until everything written to stdout has left the process (stdout on a pipe is asynchronous). */
function flushStdout(): Promise<void> {
  return new Promise((resolve) => process.stdout.write('', () => resolve()));
}

/** A reader that went away (`| head -1`) is not an error of ours; anything else still is. */
function ignoreClosedReader(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE') throw err;
}

export const command: Command = async (args, io) => {
  let v;
  try {
    v = parseArgs({
      args,
      options: {
        once: { type: 'boolean' },
        'nvidia-smi': { type: 'string' },
        hostname: { type: 'string' },
        'timeout-ms': { type: 'string' },
        'no-nvlink': { type: 'boolean' },
        replicas: { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (!v.once) {
    io.err(`only --once runs from the command line\n\n${USAGE}`);
    return 2;
  }
  const timeoutMs = v['timeout-ms'] === undefined ? 5000 : Number(v['timeout-ms']);
  const replicas = v.replicas === undefined ? undefined : Number(v.replicas);
  if (
    !Number.isInteger(timeoutMs) ||
    timeoutMs <= 0 ||
    (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 1))
  ) {
    io.err(`--timeout-ms and --replicas take positive whole numbers\n\n${USAGE}`);
    return 2;
  }
  const r = await collectOnce({
    nvidiaSmi: v['nvidia-smi'],
    hostname: v.hostname,
    timeoutMs,
    nvlink: !v['no-nvlink'],
    timeSliceReplicas: replicas,
  });
  process.stdout.on('error', ignoreClosedReader);
  io.out(r.text.replace(/\n$/, ''));
  for (const p of r.problems) io.err(`warning: ${p}`);
  if (r.error) io.err(`nvidia-smi: ${r.error.code}: ${r.error.message}`);
  await flushStdout();
  return r.error ? 1 : 0;
};
