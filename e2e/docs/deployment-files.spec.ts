import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@arcwatch/testing';
import { parse } from 'yaml';
import { SERVICE_ENVS } from './operations-env';

/**
 * Docker does not run on the build machines, so the compose file and Dockerfiles are checked
 * here for what breaks silently: a build pointing at a missing file, an entry point that moved,
 * an environment variable the service does not read.
 */
interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; args?: { ENTRY?: string } };
  command?: string[];
  environment?: Record<string, string>;
}

const compose = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const built = Object.entries(compose.services).filter(([, s]) => s.build);

describe('docker-compose.yml and the Dockerfiles', () => {
  it('runs TimescaleDB, NATS with JetStream and Redis without eviction', () => {
    expect(compose.services.timescaledb.image).toBe('timescale/timescaledb:latest-pg15');
    expect(compose.services.nats.command).toEqual(expect.arrayContaining(['-js', '-sd', '/data']));
    expect(compose.services.redis.command?.join(' ')).toContain('--maxmemory-policy noeviction');
  });

  it('builds every service and fleet-sim from the one Dockerfile, each with an entry point that exists', () => {
    expect(built.map(([name]) => name).sort()).toEqual([
      'agent',
      'anomaly',
      'billing',
      'collector',
      'console',
      'fleet-sim',
      'notifier',
      'tracing',
    ]);
    for (const [name, svc] of built) {
      expect([name, svc.build?.dockerfile]).toEqual([name, 'infra/docker/service.Dockerfile']);
      const entry = svc.build?.args?.ENTRY ?? '';
      expect([name, entry, existsSync(path.join(REPO_ROOT, entry))]).toEqual([name, entry, true]);
    }
    expect(readFileSync(path.join(REPO_ROOT, 'infra/docker/service.Dockerfile'), 'utf8')).toMatch(/^USER node$/m);
  });

  it('passes each service only environment variables its env spec reads', () => {
    const declared = new Map(SERVICE_ENVS.map(([name, spec]) => [name, new Set(Object.values(spec).map(([v]) => v))]));
    let checked = 0;
    for (const [name, svc] of built) {
      const vars = declared.get(name);
      if (!vars) continue;
      for (const key of Object.keys(svc.environment ?? {})) {
        expect({ service: name, key, declared: vars.has(key) }).toEqual({ service: name, key, declared: true });
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(20);
  });

  it('runs the node agent as its DaemonSet and systemd unit do: the bundle with plain node, not TypeScript', () => {
    const agent = compose.services.agent as ComposeService & { entrypoint?: string[] };
    expect(agent.entrypoint?.[0]).toBe('node');
    expect(agent.entrypoint?.at(-1)).toBe('dist/agent/agent.cjs');
    expect(agent.entrypoint?.join(' ')).not.toContain('register.js');
    const daemonSet = readFileSync(path.join(REPO_ROOT, 'infra/k8s/agent-daemonset.yaml'), 'utf8');
    expect(daemonSet).toContain('command: ["node", "dist/agent/agent.cjs"]');
    // The image builds the bundle for the agent's entry point.
    expect(readFileSync(path.join(REPO_ROOT, 'infra/docker/service.Dockerfile'), 'utf8')).toMatch(
      /services\/agent\/\*\) npm run build:agent/,
    );
    const standIn = agent.environment?.AGENT_NVIDIA_SMI?.replace(/^\/app\//, '') ?? '';
    expect(existsSync(path.join(REPO_ROOT, standIn))).toBe(true);
  });

  it('points the collector at the scrape config that fleet-sim writes into the shared volume', () => {
    const written = compose.services['fleet-sim'].command?.find((a) => a.startsWith('--write-scrape-config='))?.split('=')[1];
    expect(compose.services.collector.environment?.COLLECTOR_CONFIG).toBe(written);
  });
});
