/**
 * The README's run command, as a person runs it (`npm start`, here with `--check`): servers,
 * migrations, the simulated fleet and every service as its own process, and the fleet's metrics
 * stored by the collector. Ports, database and NATS namespace are the test's own, so it can run
 * beside anything else on the machine.
 */
import { spawn } from 'node:child_process';
import { REPO_ROOT, createTestDatabase, testNamespace, type TestDatabase } from '@arcwatch/testing';
import { freePort, freePortRange } from '@arcwatch/testing';

const NODES = 2;

describe('npm start (infra/run.sh --check)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('runs the fleet and every service; the collector stores every DCGM series and billing costs the requests', async () => {
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      NATS_NAMESPACE: testNamespace(),
      COLLECTOR_PORT: String(await freePort()),
      TRACING_PORT: String(await freePort()),
      BILLING_PORT: String(await freePort()),
      ANOMALY_PORT: String(await freePort()),
      NOTIFIER_PORT: String(await freePort()),
      NOTIFIER_REDIS_PREFIX: `aw-e2e-${testNamespace()}`,
      CONSOLE_PORT: String(await freePort()),
      ARCWATCH_FLEET_PORT: String(await freePortRange(NODES * 2)),
      ARCWATCH_NODES: String(NODES),
    };
    const child = spawn('bash', ['infra/run.sh', '--check', '45'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    if (code !== 0) throw new Error(`run.sh --check exited ${code}:\n${output.slice(-4000)}`);
    expect(output).toContain('ArcWatch is running.');
    expect(output).toMatch(/collector answers on :\d+/);
    for (const svc of ['tracing', 'billing', 'anomaly', 'notifier', 'console'])
      expect(output).toMatch(new RegExp(`${svc} answers on :\\d+`));
    expect(output).toMatch(
      /dashboard +http:\/\/127\.0\.0\.1:\d+\/ +admin token \(log in with it\): aw_admin_[0-9a-f]{32}/,
    );
    expect(Number(/billing has costed requests of (\d+) tenant/.exec(output)?.[1])).toBeGreaterThan(0);
    const stored = /collector stores (\d+) DCGM series \(the fleet exposes (\d+)/.exec(output);
    expect(stored).not.toBeNull();
    // 25 DCGM families per GPU, 8 GPUs per node, no outage in the first minutes.
    expect(Number(stored![2])).toBe(NODES * 8 * 25);
    expect(Number(stored![1])).toBe(NODES * 8 * 25);
  }, 240_000);
});
