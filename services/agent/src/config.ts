import { ServiceError, type LogLevel } from './runtime-lite';

/**
 * The agent's environment. Everything about what it reads (GPUs, exporters, logs, spool) is in
 * the YAML file AGENT_CONFIG (config/agent-file.schema.ts); the AGENT_* variables below override
 * the file's values one by one, so a DaemonSet can set the node name and a systemd unit the
 * interval without a file of its own. The agent has no database: DATABASE_URL is not read.
 *
 * The same variables, defaults and errors as the other services' zod env specs, checked by hand:
 * zod and its schemas were the largest part of the agent's memory after Node itself
 * (docs/decisions/0006-agent-runtime.md). Each field answers `safeParse` as a zod schema does, so
 * docs/operations.md renders this spec like the others.
 */
type Parsed<T> = { success: true; data: T } | { success: false; error: { issues: Array<{ message: string }> } };

export interface EnvField<T> {
  /** `raw` is the variable as the environment has it; an empty string means "not set". */
  safeParse(raw: string | undefined): Parsed<T>;
}

const ok = <T>(data: T): Parsed<T> => ({ success: true, data });
const fail = <T>(message: string): Parsed<T> => ({ success: false, error: { issues: [{ message }] } });
const unset = (raw: string | undefined): raw is undefined | '' => raw === undefined || raw === '';

function text(): EnvField<string | undefined>;
function text(fallback: string): EnvField<string>;
function text(fallback?: string): EnvField<string | undefined> {
  return { safeParse: (raw) => ok(unset(raw) ? fallback : raw) };
}

function int(min: number, max: number): EnvField<number | undefined>;
function int(min: number, max: number, fallback: number): EnvField<number>;
function int(min: number, max: number, fallback?: number): EnvField<number | undefined> {
  return {
    safeParse: (raw) => {
      if (unset(raw)) return ok(fallback);
      const n = Number(raw.trim());
      if (!Number.isInteger(n)) return fail(`expected a whole number, got "${raw}"`);
      if (n < min || n > max)
        return fail(
          `expected a number ${max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`}, got ${n}`,
        );
      return ok(n);
    },
  };
}

function oneOf<const T extends readonly string[]>(values: T, fallback: T[number]): EnvField<T[number]> {
  return {
    safeParse: (raw) =>
      unset(raw)
        ? ok(fallback)
        : values.includes(raw)
          ? ok(raw as T[number])
          : fail(`expected one of ${values.join(', ')}, got "${raw}"`),
  };
}

function matching(re: RegExp, what: string): EnvField<string | undefined> {
  return {
    safeParse: (raw) => (unset(raw) ? ok(undefined) : re.test(raw) ? ok(raw) : fail(`expected ${what}, got "${raw}"`)),
  };
}

const LOG_LEVELS = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
] as const satisfies readonly LogLevel[];

export const agentEnv = {
  natsUrl: ['NATS_URL', text('nats://127.0.0.1:4222')],
  /** Prefix for streams and subjects, so tests (or tenants of one NATS) stay apart. */
  natsNamespace: ['NATS_NAMESPACE', matching(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ or -')],
  /** Its own NATS user (infra/nats/users.conf: `agent`, publish to the metrics and node subjects only). */
  natsUser: ['NATS_USER', text()],
  natsPassword: ['NATS_PASSWORD', text()],
  natsPasswordFile: ['NATS_PASSWORD_FILE', text()],
  logLevel: ['LOG_LEVEL', oneOf(LOG_LEVELS, 'info')],
  port: ['AGENT_PORT', int(0, 65535, 9410)],
  host: ['AGENT_HOST', text('0.0.0.0')],
  configFile: ['AGENT_CONFIG', text()],
  cluster: ['AGENT_CLUSTER', text()],
  hostname: ['AGENT_HOSTNAME', text()],
  intervalMs: ['AGENT_INTERVAL_MS', int(50, Number.MAX_SAFE_INTEGER)],
  nvidiaSmi: ['AGENT_NVIDIA_SMI', text()],
  spoolDir: ['AGENT_SPOOL_DIR', text()],
  spoolMaxBytes: ['AGENT_SPOOL_MAX_BYTES', int(4096, Number.MAX_SAFE_INTEGER)],
  /** A kernel log to watch for Xid lines, added to the file's logs (e.g. /var/log/kern.log). */
  kernelLog: ['AGENT_KERNEL_LOG', text()],
  /**
   * The token GET /metrics asks for (Prometheus's scrape `authorization`), as every service's
   * /metrics does; or a file holding it (a mounted secret). Unset: /metrics is open, and the agent
   * says so at start.
   */
  metricsToken: ['AGENT_METRICS_TOKEN', text()],
  metricsTokenFile: ['AGENT_METRICS_TOKEN_FILE', text()],
} as const satisfies Record<string, readonly [variable: string, field: EnvField<unknown>]>;

type FieldValue<F> = F extends EnvField<infer T> ? T : never;
export type AgentEnv = { readonly [K in keyof typeof agentEnv]: FieldValue<(typeof agentEnv)[K][1]> };

/** Reads the declared variables; every problem is reported at once with its variable name. */
export function loadAgentEnv(source: Record<string, string | undefined> = process.env): AgentEnv {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, [variable, field]] of Object.entries(agentEnv)) {
    const r = (field as EnvField<unknown>).safeParse(source[variable]);
    if (r.success) out[key] = r.data;
    else problems.push(`${variable}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length > 0) throw new ServiceError('CONFIG_INVALID', `invalid environment: ${problems.join('; ')}`);
  return Object.freeze(out) as AgentEnv;
}
