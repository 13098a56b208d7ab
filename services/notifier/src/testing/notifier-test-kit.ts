import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TEST_AUTH_ENV } from '@arcwatch/testing';
import { loadNotifierConfig, type NotifierConfig } from '../config';

/** Integration tests only: the notifier's test configuration. */
export function testConfig(databaseUrl: string, namespace: string, extra: Record<string, string> = {}): NotifierConfig {
  return loadNotifierConfig({
    DATABASE_URL: databaseUrl,
    NATS_NAMESPACE: namespace,
    NOTIFIER_PORT: '0',
    NOTIFIER_REDIS_PREFIX: `aw-test-${namespace}`,
    NOTIFIER_TICK_MS: '100',
    NOTIFIER_RETRY_BASE_MS: '50',
    NOTIFIER_RETRY_MAX_MS: '2000',
    NOTIFIER_HTTP_TIMEOUT_MS: '1000',
    NOTIFIER_RECONCILE_INTERVAL_MS: '300',
    LOG_LEVEL: 'silent',
    ...TEST_AUTH_ENV,
    ...extra,
  });
}

export interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  raw: string;
  at: number;
}

export type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

/**
 * A local HTTP server standing in for Slack, PagerDuty or a webhook receiver: records every POST,
 * answers what `reply` says for it (default 202 like PagerDuty), or never answers ('hang').
 */
export class StandIn {
  readonly received: Received[] = [];
  reply: (r: Received, n: number) => Reply = () => ({
    status: 202,
    body: '{"status":"success","message":"Event processed"}',
  });
  private server: Server | undefined;
  private readonly hanging: ServerResponse[] = [];

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          body = {};
        }
        const rec: Received = { path: req.url ?? '', headers: req.headers, body, raw, at: Date.now() };
        this.received.push(rec);
        const r = this.reply(rec, this.received.length);
        if (r === 'hang') {
          this.hanging.push(res);
          return;
        }
        res.writeHead(r.status, { 'content-type': 'application/json', ...(r.headers ?? {}) });
        res.end(r.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path.startsWith(path));
  }

  async stop(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
