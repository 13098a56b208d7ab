/** Calls to the console API with the session cookie; state-changing calls carry the CSRF header. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly service: string | null,
    /** The error body's `details` (e.g. the problems of a refused configuration file). */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

function csrfCookie(): string {
  const m = /(?:^|;\s*)aw_csrf=([^;]*)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]) : '';
}

export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; query?: Record<string, string | undefined> } = {},
): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined && v !== '') q.set(k, v);
  const url = `/api/console/${path}${q.size > 0 ? `?${q.toString()}` : ''}`;
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfCookie();
  const res = await fetch(url, {
    method,
    headers,
    credentials: 'same-origin',
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const b = (body ?? {}) as { code?: string; message?: string; details?: { service?: string } };
    throw new ApiError(
      res.status,
      b.code ?? 'ERROR',
      b.message ?? `HTTP ${res.status}`,
      b.details?.service ?? null,
      b.details,
    );
  }
  return body as T;
}

export interface Principal {
  name: string;
  role: 'viewer' | 'operator' | 'admin';
  tenant: string | null;
}

/** Part of a page another service could not provide. */
export interface Unavailable {
  unavailable: { service: string; message: string };
}
export function isUnavailable(x: unknown): x is Unavailable {
  return typeof x === 'object' && x !== null && 'unavailable' in x;
}

export const fmt = {
  num: (v: number | null | undefined, digits = 1) =>
    v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits),
  ms: (v: number | null | undefined) =>
    v === null || v === undefined ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`,
  secs: (v: number | null | undefined) =>
    v === null || v === undefined ? '–' : v >= 1 ? `${v.toFixed(2)} s` : `${Math.round(v * 1000)} ms`,
  time: (iso: string | null | undefined) => (iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) : '–'),
};
