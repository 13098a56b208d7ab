import { Inject, Injectable } from '@nestjs/common';
import { bearerHeaders, clientToken } from '@arcwatch/access';
import { CONSOLE_CONFIG, type ConsoleConfig } from '../config';
import { ConsoleError } from '../errors';
import { ConsoleMetrics } from '../metrics';

export const UPSTREAMS = ['collector', 'tracing', 'billing', 'anomaly', 'notifier'] as const;
export type Upstream = (typeof UPSTREAMS)[number];

export type Query = Record<string, string | number | undefined | null>;

export type Outcome<T> =
  { ok: true; data: T } | { ok: false; service: Upstream; status: number; code: string; message: string };

export function buildUrl(base: string, path: string, query: Query = {}): string {
  const u = new URL(path, base.endsWith('/') ? base : `${base}/`);
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== '') u.searchParams.append(k, String(v));
  return u.toString();
}

/**
 * HTTP calls to the other ArcWatch services, each with a short timeout. A service that is away
 * (refused, timed out, 5xx) becomes UPSTREAM_UNAVAILABLE naming it, so the page that needs it
 * says so while the other pages keep working; a 4xx keeps its status and message.
 */
@Injectable()
export class UpstreamClient {
  private readonly bases: Record<Upstream, string>;
  /** What every call carries: the services check tokens against the same store (docs/access.md). */
  private readonly auth: Record<string, string>;

  constructor(
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
    private readonly metrics: ConsoleMetrics,
  ) {
    // AUTH_CLIENT_TOKEN, else the console's own first admin token (npm start sets it).
    this.auth = bearerHeaders(clientToken(config) ?? config.bootstrapAdminToken);
    this.bases = {
      collector: config.collectorUrl,
      tracing: config.tracingUrl,
      billing: config.billingUrl,
      anomaly: config.anomalyUrl,
      notifier: config.notifierUrl,
    };
  }

  base(service: Upstream): string {
    return this.bases[service];
  }

  async get<T>(service: Upstream, path: string, query: Query = {}): Promise<T> {
    return this.unwrap(await this.call<T>(service, 'GET', path, query));
  }

  async post<T>(service: Upstream, path: string, body: unknown, query: Query = {}): Promise<T> {
    return this.unwrap(await this.call<T>(service, 'POST', path, query, body));
  }

  /** The outcome without throwing: for pages that show what they have when one part is away. */
  async call<T>(
    service: Upstream,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    query: Query = {},
    body?: unknown,
  ): Promise<Outcome<T>> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    let res: Response;
    try {
      res = await fetch(buildUrl(this.bases[service], path, query), {
        method,
        headers:
          body === undefined
            ? { accept: 'application/json', ...this.auth }
            : { accept: 'application/json', 'content-type': 'application/json', ...this.auth },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.config.upstreamTimeoutMs),
      });
    } catch (err) {
      this.metrics.upstreamCall(service, 'unavailable', seconds());
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return {
        ok: false,
        service,
        status: 503,
        code: 'UPSTREAM_UNAVAILABLE',
        message: `${service} ${timedOut ? `did not answer within ${this.config.upstreamTimeoutMs} ms` : 'is not reachable'}`,
      };
    }
    const text = await res.text().catch(() => '');
    if (res.status >= 500) {
      this.metrics.upstreamCall(service, 'unavailable', seconds());
      return {
        ok: false,
        service,
        status: 503,
        code: 'UPSTREAM_UNAVAILABLE',
        message: `${service} answered ${res.status}`,
      };
    }
    const parsed = parseJson(text);
    if (res.status >= 400) {
      this.metrics.upstreamCall(service, 'rejected', seconds());
      const b = (parsed ?? {}) as { code?: unknown; message?: unknown; error?: unknown; errorType?: unknown };
      const message =
        typeof b.message === 'string' ? b.message : typeof b.error === 'string' ? b.error : `HTTP ${res.status}`;
      const code =
        typeof b.code === 'string' ? b.code : typeof b.errorType === 'string' ? b.errorType : 'UPSTREAM_REJECTED';
      return { ok: false, service, status: res.status, code, message };
    }
    this.metrics.upstreamCall(service, 'ok', seconds());
    return { ok: true, data: (parsed ?? text) as T };
  }

  unwrap<T>(o: Outcome<T>): T {
    if (o.ok) return o.data;
    const details = { service: o.service, upstreamCode: o.code };
    if (o.status === 503) throw new ConsoleError('UPSTREAM_UNAVAILABLE', o.message, { details, expose: true });
    if (o.status === 404) throw new ConsoleError('NOT_FOUND', `${o.service}: ${o.message}`, { details });
    if (o.status === 401 || o.status === 403)
      throw new ConsoleError('UPSTREAM_UNAVAILABLE', `${o.service} refused the console (HTTP ${o.status})`, {
        details,
        expose: true,
      });
    throw new ConsoleError('UPSTREAM_REJECTED', `${o.service}: ${o.message}`, { details });
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
