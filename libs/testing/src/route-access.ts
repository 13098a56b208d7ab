/**
 * Route-table access specs: each service lists every route it serves with the role it needs and
 * how tenant scope applies, checks that list against the routes the app really registered (so a
 * route added later without an entry fails), and runs `expectRouteAccess` on each entry.
 */
export type RouteRole = 'public' | 'viewer' | 'operator' | 'admin' | 'ingest';

/**
 * How a route treats a token scoped to one tenant:
 * - `none`: the route holds no tenant data (build info, the metrics page of the service itself);
 * - `query`: a list or aggregate filtered by tenant: the scoped token's tenant is filled in,
 *   another tenant named in the query is refused (403);
 * - `record`: one record by id: another tenant's answers 404, as if it did not exist;
 * - `filtered`: a list with no tenant parameter: a scoped token is let in and gets its tenant's
 *   entries only (the spec asserts the values);
 * - `unscoped`: spans every tenant (configuration, prices, fleet metrics, ingest): refused (403).
 */
export type TenantRule = 'none' | 'query' | 'record' | 'filtered' | 'unscoped';

export interface RouteCase {
  role: RouteRole;
  tenant: TenantRule;
  /** The request the right token sends (path parameters filled in). */
  url: string;
  payload?: unknown;
  headers?: Record<string, string>;
  /**
   * `query`: the same route naming the other tenant (`?tenant=<A>`); `record`: the other tenant's
   * record. Sent with the token scoped to tenant B.
   */
  otherTenantUrl?: string;
  /** Where the other tenant is named in the body (a silence's matchers, a group key). */
  otherTenantPayload?: unknown;
}

/** `METHOD /path` as Fastify registered it (`GET /api/v1/requests/:id`) → its case. */
export type RouteTable = Record<string, RouteCase>;

export interface RouteTokens {
  viewer: string;
  operator: string;
  admin: string;
  ingest: string;
  /** Tokens scoped to the second tenant of the spec, one per role. */
  scoped: { viewer: string; operator: string; admin: string };
}

export interface Answer {
  status: number;
  body: unknown;
}

/** Sends one request; `token` undefined sends no Authorization header. */
export type Send = (
  method: string,
  url: string,
  token: string | undefined,
  payload?: unknown,
  headers?: Record<string, string>,
) => Promise<Answer>;

/** A Send over Fastify's inject (no port): `injectSender(app.getHttpAdapter().getInstance())`. */
export function injectSender(fastify: {
  inject: (opts: {
    method: string;
    url: string;
    headers: Record<string, string>;
    payload?: string | Buffer;
  }) => Promise<{ statusCode: number; body: string }>;
}): Send {
  return async (method, url, token, payload, headers = {}) => {
    const h: Record<string, string> = { ...headers };
    if (token !== undefined) h.authorization = `Bearer ${token}`;
    let body: string | Buffer | undefined;
    if (payload !== undefined) {
      if (typeof payload === 'string' || Buffer.isBuffer(payload)) body = payload;
      else {
        body = JSON.stringify(payload);
        h['content-type'] ??= 'application/json';
      }
    }
    const res = await fastify.inject({ method, url, headers: h, ...(body === undefined ? {} : { payload: body }) });
    let parsed: unknown = res.body;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      // text bodies (CSV, exposition) stay text
    }
    return { status: res.statusCode, body: parsed };
  };
}

/** The registered routes as table keys, sorted. */
export function routeKeys(routes: Array<{ method: string; url: string }>): string[] {
  return [...new Set(routes.map((r) => `${r.method} ${r.url}`))].sort();
}

/** The token that has just too little for a role: the one a 403 is expected for. */
function wrongRole(role: Exclude<RouteRole, 'public'>, t: RouteTokens): { name: string; token: string } {
  switch (role) {
    case 'viewer':
      return { name: 'ingest', token: t.ingest };
    case 'operator':
      return { name: 'viewer', token: t.viewer };
    case 'admin':
      return { name: 'operator', token: t.operator };
    case 'ingest':
      return { name: 'operator', token: t.operator };
  }
}

function rightToken(role: Exclude<RouteRole, 'public'>, t: RouteTokens): string {
  return t[role];
}

function fail(key: string, what: string, a: Answer): never {
  throw new Error(`${key}: ${what}; got ${a.status} ${JSON.stringify(a.body).slice(0, 300)}`);
}

/**
 * The access checks of one route: no token 401 (with the error body), the role below 403, the
 * token scoped to another tenant refused or answered as missing as its tenant rule says, and the
 * right token neither 401 nor 403. Throws with the route and the answer on the first miss.
 */
export async function expectRouteAccess(send: Send, key: string, c: RouteCase, tokens: RouteTokens): Promise<void> {
  const method = key.slice(0, key.indexOf(' '));
  const go = (token: string | undefined, url = c.url, payload = c.payload) =>
    send(method, url, token, payload, c.headers);
  const other = (token: string) => go(token, c.otherTenantUrl ?? c.url, c.otherTenantPayload ?? c.payload);
  const hasOther = c.otherTenantUrl !== undefined || c.otherTenantPayload !== undefined;
  if (c.role === 'public') {
    const a = await go(undefined);
    if (a.status === 401 || a.status === 403) fail(key, 'a public route refused a caller without a token', a);
    return;
  }
  const none = await go(undefined);
  if (none.status !== 401) fail(key, 'no token must be 401', none);
  if ((none.body as { code?: unknown } | null)?.code === undefined) fail(key, 'a 401 must carry the error body', none);
  const bad = await go('aw_not_a_token_of_this_store_0000');
  if (bad.status !== 401) fail(key, 'an unknown token must be 401', bad);
  const wrong = wrongRole(c.role, tokens);
  const w = await go(wrong.token);
  if (w.status !== 403) fail(key, `a ${wrong.name} token must be 403 (needs ${c.role})`, w);
  const right = await go(rightToken(c.role, tokens));
  if (right.status === 401 || right.status === 403) fail(key, `a ${c.role} token must be let in`, right);

  const scopedRole = c.role === 'ingest' ? 'admin' : c.role;
  const scoped = tokens.scoped[scopedRole];
  switch (c.tenant) {
    case 'none':
    case 'filtered': {
      const s = await go(scoped);
      if (s.status === 401 || s.status === 403) fail(key, 'a scoped token must be let in', s);
      break;
    }
    case 'unscoped': {
      const s = await go(scoped);
      if (s.status !== 403) fail(key, 'a scoped token must be 403 on a route over every tenant', s);
      break;
    }
    case 'query': {
      if (!hasOther) throw new Error(`${key}: a query route needs otherTenantUrl or otherTenantPayload`);
      const s = await other(scoped);
      if (s.status !== 403) fail(key, "a scoped token asking for another tenant's data must be 403", s);
      const own = await go(scoped);
      if (own.status === 401 || own.status === 403) fail(key, 'a scoped token must read its own tenant', own);
      break;
    }
    case 'record': {
      if (!hasOther) throw new Error(`${key}: a record route needs otherTenantUrl or otherTenantPayload`);
      const s = await other(scoped);
      if (s.status !== 404) fail(key, "another tenant's record must answer 404 to a scoped token", s);
      const same = await other(tokens.admin);
      if (same.status === 404)
        fail(key, 'the record must exist for an unscoped token (else the 404 proves nothing)', same);
      break;
    }
  }
}
