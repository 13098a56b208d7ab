import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

export interface StandIn {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

type Handler = (r: Received) => { status?: number; body: unknown } | undefined;

/**
 * A local HTTP server standing in for another ArcWatch service in the console's integration
 * tests; it records what it was asked so tests can check the tenant the console forwarded.
 */
export async function startStandIn(handler: Handler): Promise<StandIn> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const text = Buffer.concat(chunks).toString('utf8');
      const r: Received = {
        method: req.method ?? 'GET',
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        body: text ? (JSON.parse(text) as unknown) : undefined,
      };
      received.push(r);
      const out = handler(r) ?? { status: 404, body: { code: 'NOT_FOUND', message: `no route ${r.path}` } };
      res.writeHead(out.status ?? 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
