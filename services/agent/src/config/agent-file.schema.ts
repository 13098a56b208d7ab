import { z } from 'zod';

/**
 * The agent's YAML file (AGENT_CONFIG). Every field has a default, so an empty file (or none)
 * reads the local GPUs every second and spools under /var/lib/arcwatch-agent.
 *
 *   cluster: prod-eu
 *   interval: 1s                # or intervalMs: 1000
 *   nvidiaSmi: { path: /usr/bin/nvidia-smi, timeoutMs: 5000, xmlEveryMs: 10000, nvlink: true }
 *   timeSliceReplicas: 4        # GPUs shared by time-slicing (device plugin replicas)
 *   scrape:
 *     - { job: vllm, url: http://127.0.0.1:8000/metrics }
 *   logs:
 *     - { name: kern, kind: kernel, path: /var/log/kern.log }
 *     - { name: vllm-70b, kind: engine, engine: vllm, path: /var/log/vllm.log, devices: [GPU-…] }
 *   spool: { dir: /var/lib/arcwatch-agent/spool, maxBytes: 268435456 }
 */
const duration = z.string().regex(/^\d+(ms|s|m)$/, 'a duration such as 500ms, 1s or 1m');

export function durationMs(d: string): number {
  const m = /^(\d+)(ms|s|m)$/.exec(d)!;
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}

const agentFileObject = z
  .object({
    cluster: z.string().min(1).default('default'),
    hostname: z.string().min(1).optional(),
    interval: duration.optional(),
    intervalMs: z.number().int().min(50).optional(),
    nvidiaSmi: z
      .object({
        path: z.string().min(1).default('nvidia-smi'),
        /** `loop`: one nvidia-smi kept running with -lms <interval>; `spawn`: one run per interval. */
        mode: z.enum(['loop', 'spawn']).default('loop'),
        timeoutMs: z.number().int().min(100).default(5000),
        /**
         * `-q -x` this often; -1: only on GPUs with MIG on (read every interval there). Without MIG
         * it adds only the PCIe replay counter and the device's minor number (throttle reasons come
         * from the CSV's mask every interval where the driver has it), so 30 s loses nothing.
         */
        xmlEveryMs: z.number().int().min(-1).default(30_000),
        nvlink: z.boolean().default(true),
        /**
         * NVLink counters this often: they are counters, nothing is lost between reads, and 30 s is
         * dcgm-exporter's own collection interval; 18 links × 8 GPUs read every 10 s cost the agent
         * about half its CPU (docs/decisions/0006-agent-runtime.md).
         */
        nvlinkEveryMs: z.number().int().min(0).default(30_000),
      })
      .strict()
      .prefault({}),
    timeSliceReplicas: z.number().int().min(1).default(1),
    scrape: z
      .array(
        z
          .object({
            job: z.string().min(1),
            url: z.url(),
            timeoutMs: z.number().int().min(100).default(2000),
          })
          .strict(),
      )
      .default([]),
    logs: z
      .array(
        z
          .object({
            name: z.string().min(1),
            kind: z.enum(['kernel', 'engine']),
            path: z.string().min(1),
            engine: z.string().min(1).optional(),
            devices: z.array(z.string().min(1)).optional(),
            replica: z.string().regex(/^\d+$/).optional(),
            /** Read what the file already holds when the agent starts (default: only new lines). */
            fromStart: z.boolean().default(false),
          })
          .strict(),
      )
      .default([]),
    spool: z
      .object({
        dir: z.string().min(1).default('/var/lib/arcwatch-agent/spool'),
        maxBytes: z
          .number()
          .int()
          .min(4096)
          .default(256 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** An empty file reads as YAML null: every default. */
export const agentFileSchema = z.preprocess((v) => v ?? {}, agentFileObject);

export type AgentFile = z.infer<typeof agentFileObject>;
