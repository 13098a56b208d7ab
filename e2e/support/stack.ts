/**
 * ArcWatch for an e2e test: any subset of the services, each its own process (`startProcess`, as
 * `npm start` runs them), against a test database and NATS namespace on the shared servers, or
 * against the test's own nats-server / PostgreSQL / redis-server when it restarts a server
 * (servers.ts). A service can be SIGKILLed and started again on the same port; the simulated
 * fleet is started on request with the collector's scrape config written for it.
 *
 *   const stack = await startStack({ services: ['tracing', 'collector'], fleet: { nodes: 2 } });
 *   await stack.get('collector', '/api/v1/query?query=up');
 *   await stack.kill('tracing'); await stack.start('tracing');
 *   await stack.stop();
 *
 * `replicas: { tracing: 2 }` starts more processes of a service on one database and NATS
 * namespace, each on its own port; the replica index (0 by default) picks one of them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createTestDatabase,
  eventually,
  freePort,
  freePortRange,
  startProcess,
  testNamespace,
  TEST_ADMIN_TOKEN,
  TEST_AUTH_ENV,
  TEST_INGEST_TOKEN,
  TEST_NATS_URL,
  TEST_REDIS_URL,
  type RunningProcess,
} from '@arcwatch/testing';
import { EventBus } from '@arcwatch/messaging';
import { deleteStreams } from '@arcwatch/messaging/src/testing/int-helpers';
import { type OwnServer, ownNats, ownPostgres, ownRedis } from './servers';

export const SERVICES = ['collector', 'tracing', 'billing', 'anomaly', 'notifier', 'console', 'agent'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** The salt tracing hashes API keys with; the fleet's gateway sends raw keys. */
export const TRACING_SALT = 'e2e-salt-0123456789abcdef';

/** What a service needs beyond the common variables to start in a test (short windows, a salt). */
function serviceDefaults(
  svc: ServiceName,
  stack: { dir: string; namespace: string; url: (svc: ServiceName) => string },
): Record<string, string> {
  switch (svc) {
    case 'tracing':
      return {
        TRACING_API_KEY_SALT: TRACING_SALT,
        TRACING_COMPLETION_GRACE_MS: '500',
        TRACING_STATS_LATENESS_MS: '1000',
      };
    case 'billing':
      return { BILLING_WINDOW_SECONDS: '5', BILLING_LATENESS_SECONDS: '2' };
    case 'notifier':
      return { NOTIFIER_REDIS_PREFIX: `aw-e2e-${stack.namespace}` };
    case 'agent':
      return { AGENT_SPOOL_DIR: path.join(stack.dir, 'agent-spool') };
    case 'console':
      // Every upstream at its place in this stack (one that is not started answers "unavailable").
      return {
        CONSOLE_COLLECTOR_URL: stack.url('collector'),
        CONSOLE_TRACING_URL: stack.url('tracing'),
        CONSOLE_BILLING_URL: stack.url('billing'),
        CONSOLE_ANOMALY_URL: stack.url('anomaly'),
        CONSOLE_NOTIFIER_URL: stack.url('notifier'),
        CONSOLE_UPSTREAM_TIMEOUT_MS: '15000',
      };
    default:
      return {};
  }
}

export interface FleetOptions {
  nodes?: number;
  gpus?: number;
  /** More fleet-sim flags (e.g. ['--outage', '1:20:600']); default: no outage, 1 s scrapes. */
  args?: string[];
  /** Send the fleet's request traffic to tracing (default true when tracing is in the stack). */
  traffic?: boolean;
}

export interface StackOptions {
  /** Started in this order, all at once; `start()` waits for every /readyz. */
  services: readonly ServiceName[];
  /** Per-service variables, over the defaults. */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Processes per service (default 1), all started together. */
  replicas?: Partial<Record<ServiceName, number>>;
  /** Variables of one replica, over `env` (e.g. a role). */
  replicaEnv?: (svc: ServiceName, replica: number) => Record<string, string>;
  /** 'own': this test's nats-server, PostgreSQL and redis-server on free ports (restartable). */
  servers?: 'shared' | 'own';
  /** nats-server configuration (own servers only), e.g. users and permissions, and its environment. */
  natsConfig?: string;
  natsEnv?: Record<string, string>;
  /** Variables every service gets (e.g. NATS credentials), over the connections. */
  commonEnv?: Record<string, string>;
  /** The simulated fleet; its scrape config becomes the collector's COLLECTOR_CONFIG. */
  fleet?: FleetOptions;
  readyTimeoutMs?: number;
}

export interface Stack {
  dir: string;
  namespace: string;
  databaseUrl: string;
  natsUrl: string;
  redisUrl: string;
  /** The test's own servers (servers: 'own'). */
  servers?: { nats: OwnServer; postgres: OwnServer; redis: OwnServer };
  /** The fleet's node i: dcgm-exporter on fleetPort + 2i, vLLM on fleetPort + 2i + 1. */
  fleetPort: number;
  /** How many processes of the service the stack runs (`replicas`). */
  replicas(svc: ServiceName): number;
  url(svc: ServiceName, replica?: number): string;
  proc(svc: ServiceName, replica?: number): RunningProcess;
  /** Starts the service (again, same port and variables) and waits until /readyz answers 200. */
  start(svc: ServiceName, replica?: number): Promise<void>;
  /** SIGKILL: no shutdown hooks, no drain, in-flight work lost as in a crash. */
  kill(svc: ServiceName, replica?: number): Promise<void>;
  ready(svc: ServiceName, timeoutMs?: number, replica?: number): Promise<void>;
  /** fetch against a service (replica 0) with the test admin token (unless `init` names its own). */
  fetch(svc: ServiceName, route: string, init?: RequestInit): Promise<Response>;
  get<T>(svc: ServiceName, route: string): Promise<T>;
  post<T>(svc: ServiceName, route: string, body: unknown): Promise<{ status: number; body: T }>;
  /** Every process's output, for a failure message. */
  logs(): string;
  stop(): Promise<void>;
}

const url = (port: number) => `http://127.0.0.1:${port}`;

export async function startStack(opts: StackOptions): Promise<Stack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-stack-'));
  const namespace = testNamespace();
  const cleanups: Array<() => Promise<void>> = [];
  let databaseUrl: string;
  let natsUrl = TEST_NATS_URL;
  let redisUrl = TEST_REDIS_URL;
  let servers: Stack['servers'];
  if (opts.servers === 'own') {
    // Started one by one; whatever started is stopped again if a later one fails.
    const stopOnFailure = async (): Promise<void> => {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
      const nats = await ownNats(dir, opts.natsConfig, opts.natsEnv);
      cleanups.push(() => nats.stop());
      const postgres = await ownPostgres(dir);
      cleanups.push(() => postgres.stop('SIGINT'));
      const redis = await ownRedis(dir);
      cleanups.push(() => redis.stop());
      cleanups.reverse();
      servers = { nats, postgres, redis };
      postgres.createDatabase('arcwatch');
      databaseUrl = postgres.url('arcwatch');
      natsUrl = nats.url;
      redisUrl = redis.url;
    } catch (err) {
      await stopOnFailure();
      throw err;
    }
  } else {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    // The shared NATS server keeps every stream a run creates: remove this namespace's at the end,
    // as the database goes (a run left ~6 streams a stack behind, thousands on a test machine).
    cleanups.push(async () => {
      const bus = await EventBus.connect({ url: natsUrl, name: 'e2e-stack-cleanup', namespace });
      try {
        await deleteStreams(bus);
      } finally {
        await bus.drain();
      }
    });
    databaseUrl = db.url;
  }

  // Replica 0 of every service has a port from the start (the console points at them all).
  const replicaCount = (svc: ServiceName) => opts.replicas?.[svc] ?? 1;
  const key = (svc: ServiceName, replica: number) => `${svc}#${replica}`;
  const ports = new Map<string, number>();
  for (const svc of SERVICES)
    for (let i = 0; i < Math.max(1, replicaCount(svc)); i++) ports.set(key(svc, i), await freePort());
  const fleetNodes = opts.fleet?.nodes ?? 2;
  const fleetPort = opts.fleet ? await freePortRange(fleetNodes * 2) : 0;
  const procs = new Map<string, RunningProcess>();
  const others: RunningProcess[] = [];
  const common = {
    DATABASE_URL: databaseUrl,
    NATS_URL: natsUrl,
    // A server of the test's own holds nothing else: subjects stay canonical (as permissions name them).
    ...(opts.servers === 'own' ? {} : { NATS_NAMESPACE: namespace }),
    REDIS_URL: redisUrl,
    // Every service ensures the test admin and ingest tokens at start (@arcwatch/testing).
    ...TEST_AUTH_ENV,
    CONSOLE_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    ...(opts.commonEnv ?? {}),
  };
  const envOf = new Map<ServiceName, Record<string, string>>();

  if (opts.fleet) {
    const scrapeConfig = path.join(dir, 'collector.yml');
    const traffic = opts.fleet.traffic ?? opts.services.includes('tracing');
    const fleet = startProcess(
      'fleet-sim',
      'tools/fleet-sim/src/main.ts',
      [
        ...['--nodes', String(fleetNodes), '--gpus', String(opts.fleet.gpus ?? 8)],
        ...['--base-port', String(fleetPort), '--scrape-interval', '1s'],
        ...['--write-sd', path.join(dir, 'fleet-sd.json'), '--write-scrape-config', scrapeConfig],
        ...(traffic ? ['--tracing-url', url(ports.get(key('tracing', 0)) as number)] : []),
        ...(opts.fleet.args ?? ['--outage', 'none']),
      ],
      { ARCWATCH_INGEST_TOKEN: TEST_INGEST_TOKEN },
    );
    others.push(fleet);
    await eventually(
      () => (fs.existsSync(scrapeConfig) && fs.statSync(scrapeConfig).size > 0 ? true : undefined),
      30_000,
      `fleet scrape config\n${fleet.log()}`,
    );
    envOf.set('collector', { COLLECTOR_CONFIG: scrapeConfig });
  }

  const readyTimeoutMs = opts.readyTimeoutMs ?? 120_000;
  const headers = (init?: RequestInit): Record<string, string> => ({
    authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
    ...((init?.headers as Record<string, string> | undefined) ?? {}),
  });

  const stack: Stack = {
    dir,
    namespace,
    databaseUrl,
    natsUrl,
    redisUrl,
    servers,
    fleetPort,
    replicas: replicaCount,
    url(svc, replica = 0) {
      const port = ports.get(key(svc, replica));
      if (port === undefined) throw new Error(`${svc} has no replica ${replica} in this stack`);
      return url(port);
    },
    proc(svc, replica = 0) {
      const p = procs.get(key(svc, replica));
      if (!p) throw new Error(`${svc} (replica ${replica}) was never started in this stack`);
      return p;
    },
    async start(svc, replica = 0) {
      launch(svc, replica);
      await stack.ready(svc, readyTimeoutMs, replica);
    },
    async kill(svc, replica = 0) {
      await stack.proc(svc, replica).stop('SIGKILL');
    },
    async ready(svc, timeoutMs = readyTimeoutMs, replica = 0) {
      const p = stack.proc(svc, replica);
      await eventually(
        async () => {
          if (p.child.exitCode !== null) throw new Error(`${p.name} exited with ${p.child.exitCode}`);
          const res = await fetch(`${stack.url(svc, replica)}/readyz`, { signal: AbortSignal.timeout(5_000) });
          return res.ok ? true : undefined;
        },
        timeoutMs,
        `${p.name} ready`,
      ).catch((err: unknown) => {
        // The process's output as it is now, not as it was when the wait began.
        throw new Error(`${(err as Error).message}\n--- ${p.name} output:\n${p.log().slice(-6_000)}`);
      });
    },
    fetch: (svc, route, init) => fetch(`${stack.url(svc)}${route}`, { ...init, headers: headers(init) }),
    async get<T>(svc: ServiceName, route: string) {
      const res = await stack.fetch(svc, route);
      const text = await res.text();
      if (!res.ok) throw new Error(`GET ${svc} ${route}: HTTP ${res.status} ${text.slice(0, 500)}`);
      return JSON.parse(text) as T;
    },
    async post<T>(svc: ServiceName, route: string, body: unknown) {
      const res = await stack.fetch(svc, route, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    logs: () =>
      [...procs.values(), ...others]
        .map((p) => `--- ${p.name}\n${p.log().slice(-3_000)}`)
        .concat(servers ? Object.values(servers).map((s) => `--- ${s.name}\n${s.log().slice(-1_500)}`) : [])
        .join('\n'),
    async stop() {
      for (const p of [...procs.values()].reverse()) await p.stop();
      for (const p of others.reverse()) await p.stop();
      for (const c of cleanups) await c().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };

  function launch(svc: ServiceName, replica = 0): void {
    const prefix = svc.toUpperCase();
    const env = {
      ...common,
      [`${prefix}_PORT`]: String(ports.get(key(svc, replica))),
      [`${prefix}_HOST`]: '127.0.0.1',
      ...serviceDefaults(svc, { dir, namespace, url: (s) => stack.url(s) }),
      ...(envOf.get(svc) ?? {}),
      ...(opts.env?.[svc] ?? {}),
      ...(opts.replicaEnv?.(svc, replica) ?? {}),
    };
    const name = replica === 0 ? svc : `${svc}-${replica}`;
    procs.set(key(svc, replica), startProcess(name, `services/${svc}/src/main.ts`, [], env));
  }

  const started = opts.services.flatMap((svc) =>
    Array.from({ length: replicaCount(svc) }, (_, i) => [svc, i] as const),
  );
  try {
    for (const [svc, i] of started) launch(svc, i);
    await Promise.all(started.map(([svc, i]) => stack.ready(svc, readyTimeoutMs, i)));
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return stack;
}
