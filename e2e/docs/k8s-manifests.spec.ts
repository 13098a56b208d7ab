import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '@arcwatch/testing';

/**
 * The manifests under infra/k8s against Kubernetes's own OpenAPI schemas (kubernetes-models), and
 * what every workload must have: probes on /healthz and /readyz, resource requests, a non-root
 * user, and only the environment variables its service declares.
 */
const DIR = path.join(REPO_ROOT, 'infra/k8s');

interface Verdict {
  file: string;
  kind: string;
  name: string;
  error: string | null;
}

function validate(items: Array<{ file: string; value: unknown }>): Verdict[] {
  const r = spawnSync(path.join(REPO_ROOT, 'node_modules/.bin/node'), [path.join(__dirname, 'validate-k8s.mjs')], { input: JSON.stringify(items), encoding: 'utf8', cwd: REPO_ROOT });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Verdict[];
}

interface Workload {
  kind: string;
  metadata: { name: string };
  spec: { template: { spec: { securityContext?: { runAsNonRoot?: boolean }; containers: Array<{ livenessProbe?: { httpGet?: { path: string } }; readinessProbe?: { httpGet?: { path: string } }; resources?: { requests?: Record<string, string> } }> } } };
}

const docs = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(path.join(DIR, f), 'utf8')).map((d) => ({ file: f, value: d.toJS() as { kind: string; metadata: { name: string } } })));

describe('Kubernetes manifests in infra/k8s', () => {
  it('validate against the Kubernetes schemas', () => {
    expect(docs.length).toBeGreaterThan(10);
    expect(validate(docs).filter((v) => v.error !== null)).toEqual([]);
  });

  it('give every workload probes and resource requests, and every service a non-root user', () => {
    const workloads = docs.map((d) => d.value).filter((v): v is Workload => v.kind === 'Deployment' || v.kind === 'DaemonSet');
    expect(workloads.map((w) => w.metadata.name)).toEqual(expect.arrayContaining(['collector-writer', 'tracing', 'billing', 'anomaly', 'notifier-api', 'notifier-worker', 'console']));
    for (const w of workloads) {
      const c = w.spec.template.spec.containers[0];
      expect([w.metadata.name, c.livenessProbe?.httpGet?.path, c.readinessProbe?.httpGet?.path]).toEqual([w.metadata.name, '/healthz', '/readyz']);
      expect([w.metadata.name, typeof c.resources?.requests?.memory]).toEqual([w.metadata.name, 'string']);
      // The node agent alone runs as root: it reads the host's kernel log (read-only, no escalation).
      if (w.kind === 'Deployment') expect([w.metadata.name, w.spec.template.spec.securityContext?.runAsNonRoot]).toEqual([w.metadata.name, true]);
    }
  });

  it('mounts every *_FILE a container is given, from a Secret key that exists (the agent scrape token, the NATS passwords)', () => {
    type Pod = { containers: Array<{ name: string; env?: Array<{ name: string; value?: string }>; volumeMounts?: Array<{ name: string; mountPath: string }> }>; volumes?: Array<{ name: string; secret?: { secretName: string; items?: Array<{ key: string; path: string }> } }> };
    const secrets = new Map(docs.filter((d) => d.value.kind === 'Secret').map((d) => [d.value.metadata.name, Object.keys((d.value as unknown as { stringData: object }).stringData ?? {})]));
    const checked: string[] = [];
    for (const d of docs.filter((x) => x.value.kind === 'Deployment' || x.value.kind === 'DaemonSet' || x.value.kind === 'StatefulSet')) {
      const pod = (d.value as unknown as { spec: { template: { spec: Pod } } }).spec.template.spec;
      for (const c of pod.containers)
        for (const e of (c.env ?? []).filter((v) => v.name.endsWith('_FILE') && v.value?.startsWith('/var/run/secrets/'))) {
          const mount = (c.volumeMounts ?? []).find((m) => e.value!.startsWith(`${m.mountPath}/`));
          const volume = pod.volumes?.find((v) => v.name === mount?.name);
          const item = volume?.secret?.items?.find((i) => `${mount!.mountPath}/${i.path}` === e.value);
          expect([d.value.metadata.name, e.name, item !== undefined && (secrets.get(volume!.secret!.secretName) ?? []).includes(item.key)]).toEqual([d.value.metadata.name, e.name, true]);
          checked.push(`${d.value.metadata.name}:${e.name}`);
        }
    }
    expect(checked).toEqual(expect.arrayContaining(['arcwatch-agent:AGENT_METRICS_TOKEN_FILE', 'arcwatch-agent:NATS_PASSWORD_FILE', 'collector-writer:NATS_PASSWORD_FILE']));
  });

  it('refuses a broken manifest (the validator can fail)', () => {
    const bad = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'a', image: 1 }] } } } };
    const [verdict] = validate([{ file: 'bad.yaml', value: bad }]);
    expect(verdict.error).toMatch(/image/);
  });
});
