/**
 * The live stream over a real socket (server-sent events), with the real token store and local
 * stand-ins for the collector and the notifier: the fleet is pushed when the collector's answer
 * changes, alerts follow the token's tenant, a bad topic is a 400, and no token is a 401.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ACCESS_SERVICE, type AccessService } from '@arcwatch/access';
import { createLogger } from '@arcwatch/runtime';
import { createTestDatabase, freePort, type TestDatabase } from '@arcwatch/testing';
import { createConsoleApp } from '../app';
import { loadConsoleConfig } from '../config';
import { startStandIn, type StandIn } from '../testing/stand-in-services';

interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads events from an open SSE response until `enough` says stop (or the time is up). */
async function readEvents(res: Response, enough: (events: SseEvent[]) => boolean, ms = 15_000): Promise<SseEvent[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  const deadline = Date.now() + ms;
  while (!enough(events) && Date.now() < deadline) {
    const { value, done } = await Promise.race([
      reader.read(),
      new Promise<{ value: undefined; done: true }>((r) =>
        setTimeout(() => r({ value: undefined, done: true }), deadline - Date.now()),
      ),
    ]);
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      if (data) events.push({ event, data: JSON.parse(data) as unknown });
    }
  }
  await reader.cancel().catch(() => undefined);
  return events;
}

describe('console API: server-sent events for the live pages', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let base = '';
  let collector: StandIn;
  let notifier: StandIn;
  let utilisation = 10;
  const tokens = { acme: '', all: '' };

  beforeAll(async () => {
    db = await createTestDatabase();
    collector = await startStandIn((r) => {
      if (r.path === '/api/v1/series') return { body: { status: 'success', data: [] } };
      if (r.path !== '/api/v1/query') return undefined;
      const now = Date.now() / 1000;
      const result = r.query.query.includes('DCGM_FI_DEV_GPU_UTIL')
        ? [
            {
              metric: { __name__: 'DCGM_FI_DEV_GPU_UTIL', node: 'gpu-node-001', gpu: '0', UUID: 'GPU-0' },
              value: [now, String(utilisation)],
            },
          ]
        : [];
      return { body: { status: 'success', data: { resultType: 'vector', result } } };
    });
    notifier = await startStandIn((r) => {
      if (r.path === '/api/v2/alerts')
        return {
          body: ['acme', 'globex'].map((tenant) => ({
            fingerprint: `fp-${tenant}`,
            labels: { alertname: 'HighLatency', tenant },
            startsAt: '2026-12-03T10:00:00Z',
            status: { state: 'active', silencedBy: [] },
          })),
        };
      if (r.path === '/api/v2/silences') return { body: [] };
      if (/\/escalation$/.test(r.path)) return { body: { acknowledgedAt: null, escalation: null } };
      return undefined;
    });
    const port = await freePort();
    app = await createConsoleApp({
      config: loadConsoleConfig({
        DATABASE_URL: db.url,
        LOG_LEVEL: 'silent',
        CONSOLE_PORT: String(port),
        CONSOLE_HOST: '127.0.0.1',
        CONSOLE_COLLECTOR_URL: collector.url,
        CONSOLE_NOTIFIER_URL: notifier.url,
        CONSOLE_ANOMALY_URL: `http://127.0.0.1:${await freePort()}`,
        CONSOLE_UPSTREAM_TIMEOUT_MS: '1000',
        CONSOLE_EVENTS_INTERVAL_MS: '200',
        CONSOLE_WEB_DIR: '/nonexistent-console-web',
      }),
      logger: createLogger('console', 'silent'),
      printAdminToken: () => undefined,
    });
    await app.listen(port, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
    const access = app.get<AccessService>(ACCESS_SERVICE);
    tokens.acme = (await access.issue({ name: 'acme-viewer', role: 'viewer', tenant: 'acme' })).token;
    tokens.all = (await access.issue({ name: 'sre', role: 'viewer' })).token;
  });

  afterAll(async () => {
    await app?.close();
    await collector?.close();
    await notifier?.close();
    await db?.drop();
  });

  const open = (topics: string, token?: string) =>
    fetch(`${base}/api/console/events?topics=${topics}`, {
      headers: token ? { authorization: `Bearer ${token}`, accept: 'text/event-stream' } : {},
    });

  it('pushes the fleet at once and again when it changes', async () => {
    const res = await open('fleet', tokens.all);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    let changed = false;
    const events = await readEvents(res, (ev) => {
      if (ev.length === 1 && !changed) {
        changed = true;
        utilisation = 90;
      }
      return ev.length >= 2;
    });
    const utils = events.map(
      (e) => (e.data as { nodes: Array<{ gpus: Array<{ utilization: number }> }> }).nodes[0].gpus[0].utilization,
    );
    expect(events.map((e) => e.event)).toEqual(['fleet', 'fleet']);
    expect(utils).toEqual([10, 90]);
  });

  it("alerts follow the token's tenant", async () => {
    const events = await readEvents(await open('alerts', tokens.acme), (ev) => ev.length >= 1);
    expect(events[0].event).toBe('alerts');
    const items = (events[0].data as { alerts: { items: Array<{ labels: Record<string, string> }> } }).alerts.items;
    expect(items.map((a) => a.labels.tenant)).toEqual(['acme']);
  });

  it('refuses an unknown topic and a missing token', async () => {
    expect((await open('fleet,secrets', tokens.all)).status).toBe(400);
    expect((await open('fleet')).status).toBe(401);
  });
});
