import { SetMetadata } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';

/**
 * Metadata of a handler anyone may call. Declared here rather than in libs/access so that the
 * runtime's own probes (/healthz, /readyz) can be public without the runtime knowing about tokens;
 * the access guard reads the same key.
 */
export const PUBLIC_ROUTE = 'arcwatch:access:public';
/** A handler anyone may call (probes, login, the page shell). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

export interface RegisteredRoute {
  method: string;
  url: string;
}

const ROUTES = Symbol('arcwatch.routes');
type Recording = FastifyInstance & { [ROUTES]?: RegisteredRoute[] };

/** Starts recording every route Fastify registers from now on (createServiceApp calls it first). */
export function recordRoutes(fastify: FastifyInstance): void {
  const rec = fastify as Recording;
  if (rec[ROUTES]) return;
  const routes: RegisteredRoute[] = [];
  rec[ROUTES] = routes;
  fastify.addHook('onRoute', (r) => {
    for (const method of Array.isArray(r.method) ? r.method : [r.method]) {
      // Fastify adds HEAD beside every GET by itself; it answers as the GET does.
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      routes.push({ method, url: r.url });
    }
  });
}

/**
 * Every route the app serves, as Fastify registered it (Nest's controllers and any route added
 * on the Fastify instance directly): what route-table tests enumerate, so a route added later
 * cannot skip them.
 */
export function registeredRoutes(app: NestFastifyApplication): RegisteredRoute[] {
  const rec = app.getHttpAdapter().getInstance() as unknown as Recording;
  if (!rec[ROUTES]) throw new Error('routes are recorded only for apps made by createServiceApp');
  const seen = new Set<string>();
  return rec[ROUTES].filter((r) => {
    const key = `${r.method} ${r.url}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
