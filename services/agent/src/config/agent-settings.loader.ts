import { readFileSync } from 'node:fs';
import * as os from 'node:os';
// The file, not the package's entry: the entry also loads the zod-based duration schema.
import { ConfigFileError, readConfigText, YamlSource } from '@arcwatch/config-files/src/yaml-config';
import type { AgentEnv } from '../config';
import { MIN_CONFIGURED_TOKEN_LENGTH, natsAuth, ServiceError, type NatsAuth } from '../runtime-lite';
import { checkAgentFile, durationMs, type AgentFile } from './agent-file.schema';

/** What the agent runs with: the file's settings with the AGENT_* overrides applied. */
export interface AgentSettings extends Omit<AgentFile, 'interval' | 'intervalMs' | 'hostname'> {
  hostname: string;
  intervalMs: number;
  natsUrl: string;
  natsNamespace?: string;
  /** NATS_USER with NATS_PASSWORD or NATS_PASSWORD_FILE; anonymous when unset. */
  natsAuth?: NatsAuth;
  /** AGENT_METRICS_TOKEN(_FILE): the token GET /metrics asks for; open when unset. */
  metricsToken?: string;
}

/** Parses the YAML text and checks it; throws ConfigFileError naming file, line, column and field of every problem. */
export function parseAgentFile(text: string, file: string): AgentFile {
  const source = YamlSource.parse(text, file);
  const checked = checkAgentFile(source.toJS());
  if (!checked.ok) throw new ConfigFileError(checked.problems.map((p) => source.issue(p.path, p.message, p.key)));
  return checked.value;
}

/** Reads AGENT_CONFIG (errors name file, line and field) and applies the environment. */
export function loadAgentSettings(e: AgentEnv, fileText?: { text: string; name: string }): AgentSettings {
  const file: AgentFile = fileText
    ? parseAgentFile(fileText.text, fileText.name)
    : e.configFile
      ? parseAgentFile(readConfigText(e.configFile), e.configFile)
      : parseAgentFile('', '(defaults)');
  const auth = natsAuth(e);
  const metricsToken = readMetricsToken(e);
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
    ...(metricsToken === undefined ? {} : { metricsToken }),
  };
}

/** AGENT_METRICS_TOKEN or the file AGENT_METRICS_TOKEN_FILE names (its trailing newline dropped), not both. */
export function readMetricsToken(
  e: Pick<AgentEnv, 'metricsToken' | 'metricsTokenFile'>,
  read: (file: string) => string = (f) => readFileSync(f, 'utf8'),
): string | undefined {
  if (e.metricsToken !== undefined && e.metricsTokenFile !== undefined)
    throw new ServiceError(
      'CONFIG_INVALID',
      'invalid environment: set AGENT_METRICS_TOKEN or AGENT_METRICS_TOKEN_FILE, not both',
    );
  let token = e.metricsToken;
  if (e.metricsTokenFile !== undefined) {
    try {
      token = read(e.metricsTokenFile).replace(/\r?\n$/, '');
    } catch (err) {
      throw new ServiceError(
        'CONFIG_INVALID',
        `invalid environment: AGENT_METRICS_TOKEN_FILE ${e.metricsTokenFile}: ${(err as Error).message}`,
      );
    }
  }
  if (token !== undefined && token.length < MIN_CONFIGURED_TOKEN_LENGTH)
    throw new ServiceError(
      'CONFIG_INVALID',
      `invalid environment: the /metrics token (AGENT_METRICS_TOKEN${e.metricsTokenFile ? '_FILE' : ''}) needs at least ${MIN_CONFIGURED_TOKEN_LENGTH} characters`,
    );
  return token;
}
