/**
 * Tokens in tests. Every service's test kit passes TEST_ADMIN_TOKEN as AUTH_BOOTSTRAP_TOKEN (and
 * console's CONSOLE_BOOTSTRAP_ADMIN_TOKEN), so the service ensures it at start and a test calls
 * any route with `authHeaders()`; TEST_INGEST_TOKEN likewise as AUTH_INGEST_TOKEN.
 */
export const TEST_ADMIN_TOKEN = 'aw_test_admin_0123456789abcdef0123456789';
export const TEST_INGEST_TOKEN = 'aw_test_ingest_0123456789abcdef012345678';

/** The environment that makes a service (or every service of an e2e run) accept the test tokens. */
export const TEST_AUTH_ENV: Readonly<Record<string, string>> = {
  AUTH_BOOTSTRAP_TOKEN: TEST_ADMIN_TOKEN,
  AUTH_INGEST_TOKEN: TEST_INGEST_TOKEN,
};

export function authHeaders(token: string = TEST_ADMIN_TOKEN): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

function hasAuthorization(headers: unknown): boolean {
  if (headers === undefined || headers === null) return false;
  if (headers instanceof Headers) return headers.has('authorization');
  if (Array.isArray(headers)) return headers.some(([k]) => String(k).toLowerCase() === 'authorization');
  return Object.keys(headers).some((k) => k.toLowerCase() === 'authorization');
}

/** `init` with the test admin's Authorization header, unless it names one itself. */
export function withAuth(init: RequestInit = {}, token: string = TEST_ADMIN_TOKEN): RequestInit {
  if (hasAuthorization(init.headers)) return init;
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return { ...init, headers };
}

/** fetch with the test admin token (unless `init` names an Authorization header). */
export function authFetch(url: string | URL, init?: RequestInit, token: string = TEST_ADMIN_TOKEN): Promise<Response> {
  return fetch(url, withAuth(init, token));
}

interface InjectOptions {
  headers?: Record<string, string | string[] | undefined>;
  [key: string]: unknown;
}
interface Injectable {
  inject: (...args: never[]) => unknown;
}

/**
 * Makes `app.inject({ … })` send the test admin token unless the request names its own
 * Authorization header, so specs written before tokens keep reading as they did. The route-table
 * specs call the Fastify instance's own inject, which this leaves alone.
 */
export function injectWithToken<A extends Injectable>(app: A, token: string = TEST_ADMIN_TOKEN): A {
  const original = (app.inject as (opts?: unknown) => unknown).bind(app);
  const patched = (opts?: unknown): unknown => {
    if (opts === undefined) return original();
    const o: InjectOptions = typeof opts === 'string' ? { url: opts } : (opts as InjectOptions);
    if (hasAuthorization(o.headers)) return original(o);
    return original({ ...o, headers: { ...(o.headers ?? {}), authorization: `Bearer ${token}` } });
  };
  (app as { inject: unknown }).inject = patched;
  return app;
}
