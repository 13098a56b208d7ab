/**
 * The agent as it is deployed: the bundle `npm run build:agent` makes, run by plain node with the
 * systemd unit's flags, as its own process — it reads, publishes, answers its three routes (/metrics
 * only with its token, read from a file as a mounted secret is), and stops on SIGTERM with exit 0
 * after draining NATS.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { eventually, freePort, REPO_ROOT, testNamespace } from '@arcwatch/testing';
import { readStream, STAND_IN, startNatsServer, tempDir, type NatsServer } from './testing/agent-harness';

describe('the bundled agent (dist/agent/agent.cjs) as its own process', () => {
  let nats: NatsServer;
  const dir = tempDir('agent-bundle-');
  const bundle = path.join(dir, 'agent.cjs');

  beforeAll(async () => {
    nats = await startNatsServer();
    // The same command as `npm run build:agent`, into the test's own directory.
    const built = spawnSync(
      path.join(REPO_ROOT, 'node_modules', '.bin', 'rolldown'),
      ['services/agent/src/main.ts', '--format', 'cjs', '--platform', 'node', '--file', bundle],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    );
    expect([built.status, built.stderr]).toEqual([0, expect.any(String)]);
    // The token check comes from libs/access without NestJS (decisions/0006).
    expect(fs.readFileSync(bundle, 'utf8')).not.toMatch(/@nestjs\/(core|common)/);
  }, 60_000);

  afterAll(async () => {
    await nats.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('publishes batches, serves /healthz, /readyz and /metrics (with its token), rejects other routes, and exits 0 on SIGTERM', async () => {
    const namespace = testNamespace();
    const port = await freePort();
    const token = `aw_${testNamespace()}_metrics`;
    fs.writeFileSync(path.join(dir, 'metrics-token'), `${token}\n`);
    const bearer = { headers: { authorization: `Bearer ${token}` } };
    const child = spawn(path.join(REPO_ROOT, 'node_modules', '.bin', 'node'), [bundle], {
      cwd: dir,
      env: {
        ...process.env,
        NODE_OPTIONS: '--max-old-space-size=64 --max-semi-space-size=4 --v8-pool-size=1',
        NATS_URL: nats.url,
        NATS_NAMESPACE: namespace,
        AGENT_PORT: String(port),
        AGENT_HOST: '127.0.0.1',
        AGENT_INTERVAL_MS: '200',
        AGENT_NVIDIA_SMI: STAND_IN,
        NVIDIA_SMI_FIXTURE: 'h100x8',
        AGENT_SPOOL_DIR: path.join(dir, 'spool'),
        AGENT_HOSTNAME: 'bundle-node',
        AGENT_METRICS_TOKEN_FILE: path.join(dir, 'metrics-token'),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;
    try {
      await eventually(
        async () => ((await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200 ? true : undefined),
        20_000,
        `bundle listening (${out})`,
      );
      expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      const missing = await fetch(`${url}/nothing`);
      expect([missing.status, ((await missing.json()) as { code: string }).code]).toEqual([404, 'NOT_FOUND']);
      expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405);
      // /metrics as on every service: no token or another token is 401 with the error body.
      const none = await fetch(`${url}/metrics`);
      expect([none.status, ((await none.json()) as { code: string }).code]).toEqual([401, 'UNAUTHENTICATED']);
      const wrong = await fetch(`${url}/metrics`, {
        headers: { authorization: 'Bearer aw_not_the_right_token_at_all' },
      });
      expect(wrong.status).toBe(401);
      const basic = Buffer.from(`prometheus:${token}`).toString('base64');
      expect((await fetch(`${url}/metrics`, { headers: { authorization: `Basic ${basic}` } })).status).toBe(200);

      const batches = await eventually(
        async () => {
          const s = await readStream(nats.url, namespace, 'metrics');
          return s.length >= 3 ? s : undefined;
        },
        20_000,
        'three batches',
      );
      expect(batches.map((b) => (b.event.data as { node: string }).node)).toEqual(batches.map(() => 'bundle-node'));
      const metrics = await (await fetch(`${url}/metrics`, bearer)).text();
      const published = Number(/^arcwatch_agent_published_total\{kind="batch"\} (\d+)$/m.exec(metrics)?.[1]);
      expect(published).toBeGreaterThanOrEqual(3);
      expect(metrics).toMatch(/^arcwatch_agent_nats_connected 1$/m);
      expect(metrics).toMatch(/^arcwatch_process_resident_memory_bytes \d+/m);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const lines = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['agent started', 'agent stopping']));
  }, 90_000);
});
