import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { alertFingerprint } from '@arcwatch/contracts';
import {
  TEST_ADMIN_TOKEN,
  authHeaders,
  createTestDatabase,
  eventually,
  testNamespace,
  type TestDatabase,
} from '@arcwatch/testing';
import { createNotifierApp } from '../app';
import { DispatchService } from '../dispatch/dispatch.service';
import { StandIn, testConfig } from '../testing/notifier-test-kit';

/**
 * Debian's amtool against ArcWatch's Alertmanager API: silences added, queried and expired with
 * amtool hold (a silenced alert is not notified), `amtool alert query` sees what Alertmanager
 * would show, and inhibition mutes the target alert.
 */
const AMTOOL = spawnSync('sh', ['-c', 'command -v amtool'], { encoding: 'utf8' }).stdout.trim();
// amtool comes from infra/peers.sh; without it this peer test has nothing to run against.
const describeWithAmtool = AMTOOL ? describe : describe.skip;

describeWithAmtool('amtool against the notifier API', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let url = '';
  const hook = new StandIn();
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-amtool-api-'));
  const httpConfig = path.join(dir, 'http.yml');
  writeFileSync(httpConfig, `authorization:\n  credentials: ${TEST_ADMIN_TOKEN}\n`);

  // Asynchronous: the API answers from this same process, so a blocking spawn would deadlock.
  const amtool = (...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(
        AMTOOL,
        // amtool's standard HTTP client settings carry the token (authorization.credentials).
        [`--alertmanager.url=${url}`, `--http.config.file=${httpConfig}`, ...args],
        { encoding: 'utf8', timeout: 20_000 },
        (err, stdout, stderr) => resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const post = (alerts: unknown[]) =>
    fetch(`${url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders() },
      body: JSON.stringify(alerts),
    });

  beforeAll(async () => {
    db = await createTestDatabase();
    const base = await hook.start();
    writeFileSync(
      path.join(dir, 'am.yml'),
      `route:
  receiver: hook
  group_by: [alertname, instance]
  group_wait: 50ms
  group_interval: 1h
  repeat_interval: 4h
receivers:
  - name: hook
    webhook_configs:
      - url: ${base}/hook
inhibit_rules:
  - source_matchers: [severity="P0"]
    target_matchers: [severity="P2"]
    equal: [instance]
`,
    );
    app = await createNotifierApp({ config: testConfig(db.url, ns, { NOTIFIER_CONFIG: path.join(dir, 'am.yml') }) });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    url = url.replace('[::1]', '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    await hook.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('silence add / query / expire with amtool; a silenced alert is not notified while the silence holds', async () => {
    const add = await amtool(
      'silence',
      'add',
      'alertname=Quiet',
      '--duration=1h',
      '--comment=maintenance',
      '--author=sre',
    );
    expect(add.status).toBe(0);
    const id = add.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const query = await amtool('silence', 'query', '-q');
    expect(query.stdout.trim().split('\n')).toEqual([id]);
    const full = await amtool('silence', 'query', '-o', 'json');
    expect(JSON.parse(full.stdout)).toEqual([
      expect.objectContaining({ id, createdBy: 'sre', comment: 'maintenance', status: { state: 'active' } }),
    ]);

    expect(
      (
        await post([
          { labels: { alertname: 'Quiet', instance: 'n1' } },
          { labels: { alertname: 'Loud', instance: 'n1' } },
        ])
      ).status,
    ).toBe(200);
    await eventually(() => (hook.received.length > 0 ? true : undefined), 10_000, 'Loud notified');
    await app.get(DispatchService).settle();
    expect(hook.received.map((r) => (r.body.groupLabels as Record<string, string>).alertname)).toEqual(['Loud']);

    const active = await amtool('alert', 'query', '-o', 'json');
    expect((JSON.parse(active.stdout) as { labels: { alertname: string } }[]).map((a) => a.labels.alertname)).toEqual([
      'Loud',
    ]);
    const silenced = JSON.parse((await amtool('alert', 'query', '--silenced', '-o', 'json')).stdout) as {
      labels: { alertname: string };
      status: { silencedBy: string[] };
    }[];
    expect(silenced.find((a) => a.labels.alertname === 'Quiet')?.status.silencedBy).toEqual([id]);

    expect((await amtool('silence', 'expire', id)).status).toBe(0);
    expect((await amtool('silence', 'query', '-q')).stdout.trim()).toBe('');
    expect((await amtool('silence', 'query', '--expired', '-q')).stdout.trim()).toBe(id);
  });

  it('inhibition holds: a P2 alert on the instance of a firing P0 is muted, and the API says by which alert', async () => {
    const p0 = { alertname: 'NodeDown', severity: 'P0', instance: 'n9' };
    const p2 = { alertname: 'GpuSlow', severity: 'P2', instance: 'n9' };
    expect((await post([{ labels: p0 }, { labels: p2 }])).status).toBe(200);
    await eventually(
      () =>
        hook.received.some((r) => (r.body.groupLabels as Record<string, string>).alertname === 'NodeDown')
          ? true
          : undefined,
      10_000,
      'P0 notified',
    );
    await app.get(DispatchService).settle();
    expect(hook.received.some((r) => (r.body.groupLabels as Record<string, string>).alertname === 'GpuSlow')).toBe(
      false,
    );
    const inhibited = JSON.parse(
      (await amtool('alert', 'query', '--inhibited', 'alertname=GpuSlow', '-o', 'json')).stdout,
    ) as { status: { inhibitedBy: string[]; state: string } }[];
    expect(inhibited[0].status).toMatchObject({ state: 'suppressed', inhibitedBy: [alertFingerprint(p0)] });
  });
});
