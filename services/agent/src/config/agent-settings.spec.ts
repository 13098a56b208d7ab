import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigFileError } from '@arcwatch/config-files';
import { REPO_ROOT } from '@arcwatch/testing';
import YAML from 'yaml';
import { loadAgentEnv } from '../config';
import { loadAgentSettings, readMetricsToken } from './agent-settings.loader';

describe('agent configuration: file and environment', () => {
  it('defaults to reading the local GPUs every second, spooling under /var/lib', () => {
    const s = loadAgentSettings(loadAgentEnv({ AGENT_HOSTNAME: 'n1' }), { text: '', name: 'agent.yaml' });
    expect(s).toMatchObject({
      cluster: 'default',
      hostname: 'n1',
      intervalMs: 1000,
      nvidiaSmi: {
        path: 'nvidia-smi',
        mode: 'loop',
        timeoutMs: 5000,
        xmlEveryMs: 30_000,
        nvlink: true,
        nvlinkEveryMs: 30_000,
      },
      spool: { dir: '/var/lib/arcwatch-agent/spool', maxBytes: 268435456 },
      natsUrl: 'nats://127.0.0.1:4222',
    });
  });

  it('lets AGENT_* variables override the file, field by field', () => {
    const yaml = 'cluster: a\ninterval: 5s\nspool: { dir: /x, maxBytes: 100000 }\n';
    const s = loadAgentSettings(
      loadAgentEnv({
        AGENT_CLUSTER: 'b',
        AGENT_INTERVAL_MS: '250',
        AGENT_SPOOL_DIR: '/y',
        AGENT_KERNEL_LOG: '/var/log/kern.log',
        AGENT_HOSTNAME: 'h',
      }),
      { text: yaml, name: 'agent.yaml' },
    );
    expect([s.cluster, s.intervalMs, s.spool]).toEqual(['b', 250, { dir: '/y', maxBytes: 100000 }]);
    expect(s.logs).toEqual([{ name: 'kernel', kind: 'kernel', path: '/var/log/kern.log', fromStart: false }]);
    expect(loadAgentSettings(loadAgentEnv({}), { text: yaml, name: 'agent.yaml' }).intervalMs).toBe(5000);
  });

  it('reads the /metrics token from AGENT_METRICS_TOKEN or its file, never both, at least 16 characters', () => {
    const env = (e: Record<string, string>) => loadAgentEnv({ AGENT_HOSTNAME: 'n1', ...e });
    expect(loadAgentSettings(env({}), { text: '', name: 'a.yaml' }).metricsToken).toBeUndefined();
    expect(readMetricsToken(env({ AGENT_METRICS_TOKEN: 'aw_0123456789abcdef' }))).toBe('aw_0123456789abcdef');
    const files: Record<string, string> = { '/run/secrets/metrics': 'aw_fromfile_0123456789\n' };
    expect(readMetricsToken(env({ AGENT_METRICS_TOKEN_FILE: '/run/secrets/metrics' }), (f) => files[f]!)).toBe(
      'aw_fromfile_0123456789',
    );
    expect(() =>
      readMetricsToken(env({ AGENT_METRICS_TOKEN: 'aw_0123456789abcdef', AGENT_METRICS_TOKEN_FILE: '/x' })),
    ).toThrow('set AGENT_METRICS_TOKEN or AGENT_METRICS_TOKEN_FILE, not both');
    expect(() => readMetricsToken(env({ AGENT_METRICS_TOKEN: 'short' }))).toThrow('needs at least 16 characters');
  });

  it('names file, line and field of a mistake', () => {
    const yaml = 'cluster: a\nscrape:\n  - { job: vllm, url: not-a-url }\nspool:\n  maxBytes: 10\n';
    let err: unknown;
    try {
      loadAgentSettings(loadAgentEnv({}), { text: yaml, name: 'agent.yaml' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigFileError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/agent\.yaml:3:\d+: scrape\[0\]\.url/);
    expect(msg).toMatch(/agent\.yaml:5:\d+: spool\.maxBytes/);
  });

  it('accepts the example files shipped under infra/ (systemd and the DaemonSet)', () => {
    const example = fs.readFileSync(path.join(REPO_ROOT, 'infra', 'agent', 'agent.yaml'), 'utf8');
    expect(
      loadAgentSettings(loadAgentEnv({ AGENT_HOSTNAME: 'n' }), { text: example, name: 'agent.yaml' }).scrape,
    ).toHaveLength(1);
    const docs = YAML.parseAllDocuments(
      fs.readFileSync(path.join(REPO_ROOT, 'infra', 'k8s', 'agent-daemonset.yaml'), 'utf8'),
    ).map((d) => d.toJS());
    const cm = docs.find((d: { kind?: string }) => d.kind === 'ConfigMap') as { data: Record<string, string> };
    const s = loadAgentSettings(loadAgentEnv({ AGENT_HOSTNAME: 'n' }), {
      text: cm.data['agent.yaml']!,
      name: 'configmap',
    });
    expect(s.logs.map((l) => l.path)).toEqual(['/host/var/log/kern.log']);
  });
});
