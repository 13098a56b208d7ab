import * as os from 'node:os';
import { loadYamlConfig, parseYamlConfig } from '@arcwatch/config-files';
import type { AgentEnv } from '../config';
import { natsAuth, type NatsAuth } from '../runtime-lite';
import { agentFileSchema, durationMs, type AgentFile } from './agent-file.schema';

/** What the agent runs with: the file's settings with the AGENT_* overrides applied. */
export interface AgentSettings extends Omit<AgentFile, 'interval' | 'intervalMs' | 'hostname'> {
  hostname: string;
  intervalMs: number;
  natsUrl: string;
  natsNamespace?: string;
  /** NATS_USER with NATS_PASSWORD or NATS_PASSWORD_FILE; anonymous when unset. */
  natsAuth?: NatsAuth;
}

/** Reads AGENT_CONFIG (errors name file, line and field) and applies the environment. */
export function loadAgentSettings(e: AgentEnv, fileText?: { text: string; name: string }): AgentSettings {
  const file: AgentFile = fileText
    ? parseYamlConfig(fileText.text, fileText.name, agentFileSchema).value
    : e.configFile
      ? loadYamlConfig(e.configFile, agentFileSchema).value
      : agentFileSchema.parse({});
  const auth = natsAuth(e);
  const { interval, intervalMs, hostname, ...rest } = file;
  const logs = [...rest.logs];
  if (e.kernelLog) logs.push({ name: 'kernel', kind: 'kernel', path: e.kernelLog, fromStart: false });
  return {
    ...rest,
    cluster: e.cluster ?? rest.cluster,
    hostname: e.hostname ?? hostname ?? os.hostname(),
    intervalMs: e.intervalMs ?? intervalMs ?? (interval ? durationMs(interval) : 1000),
    nvidiaSmi: { ...rest.nvidiaSmi, ...(e.nvidiaSmi ? { path: e.nvidiaSmi } : {}) },
    spool: { dir: e.spoolDir ?? rest.spool.dir, maxBytes: e.spoolMaxBytes ?? rest.spool.maxBytes },
    logs,
    natsUrl: e.natsUrl,
    ...(e.natsNamespace ? { natsNamespace: e.natsNamespace } : {}),
    ...(auth ? { natsAuth: auth } : {}),
  };
}
