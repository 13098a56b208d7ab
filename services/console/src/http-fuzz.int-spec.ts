import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Subscription } from '@nats-io/nats-core';
import { CONFIG_FILE_SERVICES } from '@arcwatch/contracts';
import { EventBus, serveConfigFiles } from '@arcwatch/messaging';
import { createLogger } from '@arcwatch/runtime';
import {
  authHeaders,
  bodyRoutes,
  createTestDatabase,
  FUZZ_TIMEOUT_MS,
  fuzzRouteBodies,
  testNamespace,
  type BodySeed,
  type TestDatabase,
} from '@arcwatch/testing';
import { createConsoleApp } from './app';
import { loadConsoleConfig } from './config';
import { startStandIn, type StandIn } from './testing/stand-in-services';

const json = (body: object): BodySeed[] => [{ contentType: 'application/json', body }];

/**
 * The console's state-changing routes under generated bodies, with a stand-in notifier behind
 * them and stand-in owners of every configuration file on NATS, so that valid bodies reach the
 * end of their path.
 */
describe('console HTTP under generated bodies (every route that takes one)', () => {
  const ns = testNamespace();
  let db: TestDatabase;
  let bus: EventBus;
  let subs: Subscription[] = [];
  let notifier: StandIn;
  let app: NestFastifyApplication;
  let admin = '';
  let spareTokenId = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    bus = await EventBus.connect({ name: 'console-fuzz-owner', namespace: ns });
    subs = CONFIG_FILE_SERVICES.flatMap((service) =>
      serveConfigFiles(
        bus,
        service,
        {
          files: () => [{ kind: 'rules', file: `/etc/arcwatch/${service}.yml`, text: 'a: 1\n' }],
          apply: async () => 'kept',
        },
        createLogger('owner', 'silent'),
      ),
    );
    notifier = await startStandIn((r) => {
      if (r.path === '/api/v2/silences' && r.method === 'POST') return { body: { silenceID: 'fuzz-silence' } };
      if (/\/acknowledge$/.test(r.path)) return { body: { acknowledged: true, escalation: null } };
      if (r.path === '/api/v2/alerts') return { body: [] };
      if (r.path === '/api/v2/silences') return { body: [] };
      return undefined;
    });
    const printed: string[] = [];
    app = await createConsoleApp({
      config: loadConsoleConfig({
        DATABASE_URL: db.url,
        NATS_NAMESPACE: ns,
        LOG_LEVEL: 'silent',
        CONSOLE_NOTIFIER_URL: notifier.url,
        CONSOLE_UPSTREAM_TIMEOUT_MS: '1000',
        CONSOLE_WEB_DIR: '/nonexistent-console-web',
      }),
      logger: createLogger('console', 'silent'),
      printAdminToken: (line) => printed.push(line),
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    admin = /token \(shown once, keep it\): (\S+)/.exec(printed.join(''))?.[1] ?? '';
    expect(admin).toMatch(/^aw_/);
    const spare = await app
      .getHttpAdapter()
      .getInstance()
      .inject({
        method: 'POST',
        url: '/api/console/tokens',
        headers: authHeaders(admin),
        payload: { name: 'spare', role: 'viewer' },
      });
    spareTokenId = (spare.json() as { info: { id: string } }).info.id;
  });

  afterAll(async () => {
    await app?.close();
    await notifier?.close();
    for (const s of subs) s.unsubscribe();
    await bus?.drain();
    await db?.drop();
  });

  const seeds = (): Record<string, BodySeed[]> => ({
    'POST /api/console/session': json({ token: admin }),
    'DELETE /api/console/session': json({}),
    'POST /api/console/tokens': json({ name: 'ci', role: 'viewer', tenant: 'acme' }),
    'DELETE /api/console/tokens/:id': json({}),
    'POST /api/console/alerts/:fingerprint/acknowledge': json({ comment: 'on it' }),
    'POST /api/console/silences': json({
      matchers: [{ name: 'alertname', value: 'GpuHot', isRegex: false, isEqual: true }],
      durationMinutes: 60,
      comment: 'maintenance',
    }),
    'PUT /api/console/configuration/files': json({
      service: 'anomaly',
      file: '/etc/arcwatch/anomaly.yml',
      text: 'a: 2\n',
    }),
  });

  it('walks the routes Fastify registered and has a valid body for each', () => {
    const routes = bodyRoutes(app);
    expect(routes.length).toBeGreaterThan(0);
    for (const key of routes) expect(seeds()).toHaveProperty([key]);
  });

  it(
    'answers every generated body with a 2xx or a 4xx carrying a code, never a 5xx, and stays healthy',
    async () => {
      // The admin's own token id is never offered: revoking it would end the run, not test a body.
      const params = { id: [spareTokenId], fingerprint: ['fp-1'] };
      for (const key of bodyRoutes(app))
        await fuzzRouteBodies(app, key, { seeds: seeds(), params, headers: authHeaders(admin) });
    },
    FUZZ_TIMEOUT_MS,
  );
});
