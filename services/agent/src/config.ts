import { z } from 'zod';
import { commonEnv, env, httpEnv, natsAuthEnv, parseEnv, type ConfigOf, type EnvSpec } from './runtime-lite';

/**
 * The agent's environment. Everything about what it reads (GPUs, exporters, logs, spool) is in
 * the YAML file AGENT_CONFIG (config/agent-file.schema.ts); the AGENT_* variables below override
 * the file's values one by one, so a DaemonSet can set the node name and a systemd unit the
 * interval without a file of its own. The agent has no database: DATABASE_URL is not read.
 */
export const agentEnv = {
  natsUrl: commonEnv.natsUrl,
  natsNamespace: commonEnv.natsNamespace,
  /** Its own NATS user (infra/nats/users.conf: `agent`, publish to the metrics and node subjects only). */
  ...natsAuthEnv,
  logLevel: commonEnv.logLevel,
  ...httpEnv('AGENT', 9410),
  configFile: ['AGENT_CONFIG', env.optionalText],
  cluster: ['AGENT_CLUSTER', env.optionalText],
  hostname: ['AGENT_HOSTNAME', env.optionalText],
  intervalMs: [
    'AGENT_INTERVAL_MS',
    z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(50).optional()),
  ],
  nvidiaSmi: ['AGENT_NVIDIA_SMI', env.optionalText],
  spoolDir: ['AGENT_SPOOL_DIR', env.optionalText],
  spoolMaxBytes: [
    'AGENT_SPOOL_MAX_BYTES',
    z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(4096).optional()),
  ],
  /** A kernel log to watch for Xid lines, added to the file's logs (e.g. /var/log/kern.log). */
  kernelLog: ['AGENT_KERNEL_LOG', env.optionalText],
  /**
   * The token GET /metrics asks for (Prometheus's scrape `authorization`), as every service's
   * /metrics does; or a file holding it (a mounted secret). Unset: /metrics is open, and the agent
   * says so at start.
   */
  metricsToken: ['AGENT_METRICS_TOKEN', env.optionalText],
  metricsTokenFile: ['AGENT_METRICS_TOKEN_FILE', env.optionalText],
} as const satisfies EnvSpec;

export type AgentEnv = ConfigOf<typeof agentEnv>;

export function loadAgentEnv(source: Record<string, string | undefined> = process.env): AgentEnv {
  return parseEnv(agentEnv, source);
}
