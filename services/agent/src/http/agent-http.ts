import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { configuredTokenCheck, type Logger, type MetricsRegistry } from '../runtime-lite';

export interface AgentHttp {
  server: Server;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export interface AgentHttpOptions {
  /** The token GET /metrics asks for (AGENT_METRICS_TOKEN); /metrics is open without one. */
  metricsToken?: string;
}

/**
 * The agent's three routes on node:http, with the bodies every ArcWatch service gives
 * (docs/http-api.md): /healthz, /readyz — which asks nothing, since an agent that spools while
 * NATS is away is doing its work — and /metrics (Prometheus text), which needs the configured
 * token as every service's /metrics does (docs/access.md), as a bearer token or a basic-auth
 * password. Anything else is 404 or 405 with the error body.
 */
export function createAgentHttp(registry: MetricsRegistry, logger: Logger, opts: AgentHttpOptions = {}): AgentHttp {
  const check = opts.metricsToken === undefined ? undefined : configuredTokenCheck([opts.metricsToken]);
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = (req.url ?? '/').split('?')[0];
    const known = url === '/healthz' || url === '/readyz' || url === '/metrics';
    if (!known) return json(res, 404, { code: 'NOT_FOUND', message: `no route ${req.method} ${url}` });
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return json(res, 405, { code: 'METHOD_NOT_ALLOWED', message: `${req.method} ${url}: only GET` });
    if (url === '/healthz') return json(res, 200, { status: 'ok' });
    if (url === '/readyz') return json(res, 200, { status: 'ok', info: {}, error: {}, details: {} });
    if (check) {
      const auth = check(req.headers.authorization);
      if (!auth.ok) {
        return json(res, 401, { code: auth.code, message: auth.message });
      }
    }
    const text = await registry.render();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(req.method === 'HEAD' ? undefined : text);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err }, 'HTTP request failed');
      if (!res.headersSent) json(res, 500, { code: 'INTERNAL', message: 'internal error' });
      else res.destroy();
    });
  });
  // Probes and scrapes keep connections alive; close() must not wait for them.
  server.keepAliveTimeout = 5_000;
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
