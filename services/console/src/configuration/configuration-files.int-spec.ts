/**
 * The console's configuration editor API over real NATS and PostgreSQL. The rule file's owner is
 * a stand-in that answers the anomaly service's subjects with the libraries anomaly uses
 * (services never import each other; anomaly's own responder has its int-spec, and the browser
 * test runs the real one): the console asks over NATS request/reply and never touches the file
 * itself. Admins only, unscoped only; a rule with a mistake comes back as 422 with the line and
 * field; a good one is written by the owner.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Subscription } from '@nats-io/nats-core';
import { ACCESS_SERVICE, type AccessService } from '@arcwatch/access';
import { parseAlertRuleFile } from '@arcwatch/alerting';
import { readConfigText, writeFileAtomic } from '@arcwatch/config-files';
import { EventBus, serveConfigFiles } from '@arcwatch/messaging';
import { createLogger } from '@arcwatch/runtime';
import { createTestDatabase, testNamespace, type TestDatabase } from '@arcwatch/testing';
import { createConsoleApp } from '../app';
import { loadConsoleConfig } from '../config';

const RULES = [
  'groups:',
  '  - name: gpu',
  '    rules:',
  '      - alert: GpuHot',
  '        expr: DCGM_FI_DEV_GPU_TEMP > 90',
  '',
].join('\n');

describe('console API: configuration files edited through the service that owns them', () => {
  let db: TestDatabase;
  let bus: EventBus;
  let subs: Subscription[] = [];
  /** Rule names the stand-in owner has in force. */
  let installed: string[] = ['GpuHot'];
  let app: NestFastifyApplication;
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-console-files-'));
  const ruleFile = path.join(dir, 'fleet.rules.yml');
  writeFileSync(ruleFile, RULES);
  const tokens = { admin: '', operator: '', viewer: '', scopedAdmin: '' };

  beforeAll(async () => {
    db = await createTestDatabase();
    bus = await EventBus.connect({ name: 'console-files-owner', namespace: ns });
    subs = serveConfigFiles(
      bus,
      'anomaly',
      {
        files: () => [{ kind: 'rules', file: ruleFile, text: readConfigText(ruleFile) }],
        apply: async (file, text) => {
          const groups = parseAlertRuleFile(text, file);
          writeFileAtomic(file, text);
          installed = groups.flatMap((g) => g.alerting.map((r) => r.alert));
          return `${groups.length} group, ${installed.length} rules`;
        },
      },
      createLogger('owner', 'silent'),
    );
    app = await createConsoleApp({
      config: loadConsoleConfig({
        DATABASE_URL: db.url,
        NATS_NAMESPACE: ns,
        LOG_LEVEL: 'silent',
        CONSOLE_UPSTREAM_TIMEOUT_MS: '1000',
        CONSOLE_WEB_DIR: '/nonexistent-console-web',
      }),
      logger: createLogger('console', 'silent'),
      printAdminToken: () => undefined,
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const access = app.get<AccessService>(ACCESS_SERVICE);
    tokens.admin = (await access.issue({ name: 'editor', role: 'admin' })).token;
    tokens.operator = (await access.issue({ name: 'oncall', role: 'operator' })).token;
    tokens.viewer = (await access.issue({ name: 'sre', role: 'viewer' })).token;
    tokens.scopedAdmin = (await access.issue({ name: 'acme-admin', role: 'admin', tenant: 'acme' })).token;
  });

  afterAll(async () => {
    await app?.close();
    for (const sub of subs) sub.unsubscribe();
    await bus?.drain();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const put = (token: string, text: string, file = ruleFile) =>
    app.inject({
      method: 'PUT',
      url: '/api/console/configuration/files',
      headers: as(token),
      payload: { service: 'anomaly', file, text },
    });
  it('lists the rule file from anomaly; services that do not answer say so', async () => {
    const r = await app.inject({ method: 'GET', url: '/api/console/configuration/files', headers: as(tokens.viewer) });
    expect(r.statusCode).toBe(200);
    const byService = Object.fromEntries(
      (r.json() as { services: Array<{ service: string }> }).services.map((s) => [s.service, s]),
    );
    expect(byService.anomaly).toEqual({
      service: 'anomaly',
      files: [{ kind: 'rules', file: ruleFile, text: RULES }],
    });
    // Neither the notifier nor billing runs in this test.
    expect(byService.notifier).toMatchObject({ unavailable: { service: 'notifier' } });
    expect(byService.billing).toMatchObject({ unavailable: { service: 'billing' } });
    const scoped = await app.inject({
      method: 'GET',
      url: '/api/console/configuration/files',
      headers: as(tokens.scopedAdmin),
    });
    expect(scoped.statusCode).toBe(403);
  });

  it('only unscoped admins may apply', async () => {
    expect((await put(tokens.viewer, RULES)).statusCode).toBe(403);
    expect((await put(tokens.operator, RULES)).statusCode).toBe(403);
    expect((await put(tokens.scopedAdmin, RULES)).statusCode).toBe(403);
    expect(readFileSync(ruleFile, 'utf8')).toBe(RULES);
  });

  it('a rule with a mistake is 422 with its line and field; nothing changes', async () => {
    const r = await put(tokens.admin, RULES.replace('> 90', '> > 90'));
    expect(r.statusCode).toBe(422);
    expect(r.json()).toMatchObject({
      code: 'CONFIG_REJECTED',
      details: { service: 'anomaly', errors: [{ file: ruleFile, line: 5, field: 'groups[0].rules[0].expr' }] },
    });
    expect(readFileSync(ruleFile, 'utf8')).toBe(RULES);
    expect(installed).toEqual(['GpuHot']);
  });

  it('a good file is written by its owner and in force at once', async () => {
    const next = `${RULES}      - alert: GpuCold\n        expr: DCGM_FI_DEV_GPU_TEMP < 10\n`;
    const r = await put(tokens.admin, next);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ ok: true, file: ruleFile, summary: '1 group, 2 rules' });
    expect(readFileSync(ruleFile, 'utf8')).toBe(next);
    expect(installed).toEqual(['GpuHot', 'GpuCold']);
  });

  it('the console cannot be made to write a file the service does not load', async () => {
    const r = await put(tokens.admin, RULES, path.join(dir, 'elsewhere.yml'));
    expect(r.statusCode).toBe(422);
    expect(r.json().details.errors[0]).toMatchObject({ field: '(file)' });
  });
});
