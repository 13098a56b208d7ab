import type { EnvSpec } from '@arcwatch/runtime';
import { agentEnv, type EnvField } from '../../services/agent/src/config';
import { anomalyEnv } from '../../services/anomaly/src/config';
import { billingEnv } from '../../services/billing/src/config';
import { collectorEnv } from '../../services/collector/src/config';
import { consoleEnv } from '../../services/console/src/config';
import { notifierEnv } from '../../services/notifier/src/config';
import { tracingEnv } from '../../services/tracing/src/config';

/** A spec as rendered here: zod's (EnvSpec), or the agent's hand-checked one, whose fields answer safeParse alike. */
type AgentEnvField = EnvField<unknown>;
type RenderedSpec = Record<string, readonly [variable: string, field: Pick<EnvSpec[string][1], 'safeParse'> | AgentEnvField]>;

/** Every service's environment, rendered from the env specs themselves for docs/operations.md. */
export const SERVICE_ENVS: Array<[string, RenderedSpec]> = [
  ['collector', collectorEnv],
  ['tracing', tracingEnv],
  ['billing', billingEnv],
  ['anomaly', anomalyEnv],
  ['notifier', notifierEnv],
  ['console', consoleEnv],
  ['agent', agentEnv],
];

const COMMON = new Set(['DATABASE_URL', 'NATS_URL', 'NATS_NAMESPACE', 'LOG_LEVEL', 'NATS_STREAM_REPLICAS', 'NATS_USER', 'NATS_PASSWORD', 'NATS_PASSWORD_FILE']);

function defaultOf(field: RenderedSpec[string][1]): string {
  const r = field.safeParse(undefined);
  if (!r.success) return 'required';
  if (r.data === undefined) return 'unset';
  return `\`${Array.isArray(r.data) ? r.data.join(',') || '(none)' : String(r.data)}\``;
}

export function renderEnvTables(): string {
  const out: string[] = [];
  for (const [service, spec] of SERVICE_ENVS) {
    const rows = Object.values(spec).filter(([variable]) => !COMMON.has(variable));
    out.push(`### ${service}`, '', '| variable | default |', '| --- | --- |');
    for (const [variable, schema] of rows) out.push(`| \`${variable}\` | ${defaultOf(schema)} |`);
    out.push('');
  }
  return out.join('\n');
}

export const ENV_BEGIN = '<!-- env:begin (generated from each service\'s src/config.ts; npm run docs:operations) -->';
export const ENV_END = '<!-- env:end -->';

export function withEnvTables(doc: string): string {
  const a = doc.indexOf(ENV_BEGIN);
  const b = doc.indexOf(ENV_END);
  if (a < 0 || b < a) throw new Error('docs/operations.md lacks the env markers');
  return doc.slice(0, a + ENV_BEGIN.length) + '\n\n' + renderEnvTables() + '\n' + doc.slice(b);
}
