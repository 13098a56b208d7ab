import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@arcwatch/testing';
import { parse } from 'yaml';

/**
 * Docker does not run on the build machines, so the compose file and Dockerfiles are checked
 * here for what breaks silently: a build pointing at a missing file, an entry point that moved,
 * an environment variable the service does not read.
 */
interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
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

  it('builds collector, tracing and fleet-sim from Dockerfiles that exist and start an existing entry point', () => {
    expect(built.map(([name]) => name).sort()).toEqual(expect.arrayContaining(['collector', 'fleet-sim', 'tracing']));
    for (const [, svc] of built) {
      const file = path.join(REPO_ROOT, svc.build?.context ?? '.', svc.build?.dockerfile ?? '');
      expect(existsSync(file)).toBe(true);
      const text = readFileSync(file, 'utf8');
      const entry = /"(services\/[^"]+\/src\/main\.ts|tools\/fleet-sim\/src\/main\.ts)"/.exec(text)?.[1];
      expect(entry && existsSync(path.join(REPO_ROOT, entry))).toBeTruthy();
    }
  });

  it("passes each service only environment variables its config.ts reads", () => {
    let checked = 0;
    for (const [name, svc] of built) {
      const config = path.join(REPO_ROOT, 'services', name, 'src', 'config.ts');
      if (!existsSync(config)) continue;
      const source = readFileSync(config, 'utf8');
      for (const key of Object.keys(svc.environment ?? {})) {
        expect({ service: name, key, declared: new RegExp(`\\b${key}:`).test(source) }).toEqual({ service: name, key, declared: true });
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6);
  });

  it('points the collector at the scrape config that fleet-sim writes into the shared volume', () => {
    const written = compose.services['fleet-sim'].command?.find((a) => a.startsWith('--write-scrape-config='))?.split('=')[1];
    expect(compose.services.collector.environment?.COLLECTOR_CONFIG).toBe(written);
  });
});
