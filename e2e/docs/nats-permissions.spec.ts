import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { PUBLIC_EVENTS } from '@arcwatch/contracts';
import { REPO_ROOT } from '@arcwatch/testing';
import { NATS_SERVICES, passwordVariable, renderUsersConf, servicePermissions, subjectPattern } from './nats-permissions';

/** NATS subject matching: `*` one token, `>` the rest. */
function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

describe('NATS users and permissions (infra/nats)', () => {
  const perms = servicePermissions();
  const mayPublish = (svc: (typeof NATS_SERVICES)[number], subject: string) =>
    perms[svc].publish.some((p) => matches(p, subject));

  it('users.conf is what the event catalogue gives (node tools/register.js e2e/docs/write-nats-users.ts)', () => {
    expect(readFileSync(path.join(REPO_ROOT, 'infra/nats/users.conf'), 'utf8')).toBe(renderUsersConf());
  });

  it('each event subject is publishable exactly by the services the catalogue names as its publishers', () => {
    const examples: Array<[string, string[]]> = [
      ['aw.requests.v1.completed.acme', ['tracing']],
      ['aw.requests.v1.events.acme', ['tracing']],
      ['aw.cost.v1.allocated.acme', ['billing']],
      ['aw.cost.v1.budget.exceeded.acme', ['billing']],
      ['aw.alerts.v1.firing.P2.gpu', ['anomaly']],
      ['aw.notify.v1.delivered.slack', ['notifier']],
      ['aw.metrics.v1.samples.c1.n1', ['agent', 'anomaly', 'collector', 'tracing']],
      ['aw.node.v1.gpu-errors.c1.n1', ['agent']],
    ];
    for (const [subject, publishers] of examples)
      expect([subject, NATS_SERVICES.filter((svc) => mayPublish(svc, subject)).sort()]).toEqual([subject, publishers]);
    // Every catalogue entry: a concrete subject of it is publishable by each service named as a publisher.
    for (const e of PUBLIC_EVENTS) {
      const subject = subjectPattern(e.subject).replace(/\*/g, 'x');
      for (const entry of e.publishers) {
        const svc = NATS_SERVICES.find((s) => entry === s || entry.startsWith(`${s} (`));
        if (svc) expect([e.type, svc, mayPublish(svc, subject)]).toEqual([e.type, svc, true]);
      }
    }
  });

  it('a consumer pulls and acks only the streams it consumes, and dead-letters only what it consumes', () => {
    expect(mayPublish('billing', '$JS.API.CONSUMER.MSG.NEXT.AW_REQUESTS.billing-allocation')).toBe(true);
    expect(mayPublish('billing', '$JS.ACK.AW_REQUESTS.billing.1.2.3.4.5')).toBe(true);
    expect(mayPublish('billing', '$JS.API.CONSUMER.MSG.NEXT.AW_ALERTS.x')).toBe(false);
    expect(mayPublish('notifier', '$JS.API.CONSUMER.MSG.NEXT.AW_ALERTS.notifier-alerts')).toBe(true);
    expect(mayPublish('billing', 'aw.dlq.aw.requests.v1.completed.acme')).toBe(true);
    expect(mayPublish('billing', 'aw.dlq.aw.alerts.v1.firing.P1.gpu')).toBe(false);
    // Tracing reads its assembly durable's oldest unacked message; no one else reads by sequence.
    expect(mayPublish('tracing', '$JS.API.STREAM.MSG.GET.AW_REQUESTS')).toBe(true);
    expect(NATS_SERVICES.filter((svc) => mayPublish(svc, '$JS.API.STREAM.MSG.GET.AW_REQUESTS'))).toEqual(['tracing']);
    expect(mayPublish('tracing', '$JS.API.STREAM.MSG.GET.AW_COST')).toBe(false);
    // No service may delete or purge a stream.
    for (const svc of NATS_SERVICES) {
      expect(mayPublish(svc, '$JS.API.STREAM.DELETE.AW_COST')).toBe(false);
      expect(mayPublish(svc, '$JS.API.STREAM.PURGE.AW_REQUESTS')).toBe(false);
    }
  });

  it('docker-compose runs nats-server with these users and each service connects as its own', () => {
    const compose = parseYaml(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { command?: string[]; environment?: Record<string, string>; volumes?: string[] }>;
    };
    const nats = compose.services.nats;
    expect(nats.command?.slice(0, 2)).toEqual(['-c', '/etc/nats/nats.conf']);
    expect(nats.volumes).toContain('./infra/nats:/etc/nats:ro');
    expect(readFileSync(path.join(REPO_ROOT, 'infra/nats/nats.conf'), 'utf8')).toContain('include ./users.conf');
    for (const svc of NATS_SERVICES) expect(Object.keys(nats.environment ?? {})).toContain(passwordVariable(svc));
    const services = Object.keys(compose.services).filter((s) => (NATS_SERVICES as readonly string[]).includes(s));
    expect(services.length).toBeGreaterThanOrEqual(5);
    for (const svc of services) {
      const env = compose.services[svc].environment ?? {};
      expect([svc, env.NATS_USER, env.NATS_PASSWORD]).toEqual([svc, svc, nats.environment?.[passwordVariable(svc as never)]]);
    }
  });

  it('infra/k8s: the users file as a ConfigMap, a password per service, and every workload signs in as its own user', () => {
    const dir = path.join(REPO_ROOT, 'infra/k8s');
    const docs = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS() as K8sDoc));
    const conf = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'arcwatch-nats-users-conf');
    expect(conf?.data?.['users.conf']).toBe(renderUsersConf());
    const secret = docs.find((d) => d.kind === 'Secret' && d.metadata.name === 'arcwatch-nats-users');
    expect(Object.keys(secret?.stringData ?? {}).sort()).toEqual([...NATS_SERVICES].sort());
    const common = docs.find((d) => d.kind === 'Secret' && d.metadata.name === 'arcwatch-secrets');
    // nats.js takes no credentials from the URL: they come from NATS_USER and the password file.
    expect(common?.stringData?.NATS_URL).not.toMatch(/@/);
    const workloads = docs.filter((d) => d.kind === 'Deployment' || d.kind === 'DaemonSet');
    expect(workloads.length).toBeGreaterThanOrEqual(9);
    for (const w of workloads) {
      const c = w.spec?.template.spec.containers[0];
      const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
      const user = env.NATS_USER ?? '';
      expect([w.metadata.name, (NATS_SERVICES as readonly string[]).includes(user)]).toEqual([w.metadata.name, true]);
      expect(w.metadata.name).toContain(user);
      expect(env.NATS_PASSWORD_FILE).toBe('/var/run/secrets/nats/password');
      const vol = w.spec?.template.spec.volumes?.find((v) => v.name === 'nats-password');
      expect(vol?.secret).toEqual({ secretName: 'arcwatch-nats-users', items: [{ key: user, path: 'password' }] });
    }
  });
});

interface K8sDoc {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    template: {
      spec: {
        containers: Array<{ env?: Array<{ name: string; value?: string }> }>;
        volumes?: Array<{ name: string; secret?: unknown }>;
      };
    };
  };
}
