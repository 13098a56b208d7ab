import fs from 'node:fs/promises';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** Headers of every page and asset: no framing, no sniffing, scripts and styles from here only. */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export type Resolved =
  { kind: 'file'; file: string; type: string; immutable: boolean } | { kind: 'app' } | { kind: 'not-found' };

/**
 * Maps a URL path to a file under `root`, never outside it: the path is decoded once, NUL bytes
 * and `..` segments are refused, and the joined path must stay inside the root. A path without
 * an extension is a client-side route: the app shell answers it.
 */
export function resolveStatic(root: string, urlPath: string): Resolved {
  const pathname = urlPath.split('?')[0] ?? '/';
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { kind: 'not-found' };
  }
  if (decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').some((seg) => seg === '..'))
    return { kind: 'not-found' };
  const ext = path.posix.extname(decoded);
  if (decoded === '/' || ext === '') return { kind: 'app' };
  const type = TYPES[ext];
  if (!type) return { kind: 'not-found' };
  const base = path.resolve(root);
  const file = path.resolve(base, `.${path.posix.normalize(decoded)}`);
  if (!file.startsWith(base + path.sep)) return { kind: 'not-found' };
  return { kind: 'file', file, type, immutable: decoded.startsWith('/assets/') };
}

export interface StaticReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/** Reads what resolveStatic chose; a missing build says how to make it. */
export async function serveStatic(root: string, urlPath: string): Promise<StaticReply> {
  const r = resolveStatic(root, urlPath);
  if (r.kind === 'not-found')
    return {
      status: 404,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'NOT_FOUND', message: 'no such file' }),
    };
  const file = r.kind === 'app' ? path.join(root, 'index.html') : r.file;
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) throw new Error('not a file');
    const body = await fs.readFile(file);
    const type = r.kind === 'app' ? TYPES['.html'] : r.type;
    const cache = r.kind === 'file' && r.immutable ? 'public, max-age=31536000, immutable' : 'no-cache';
    return { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': cache }, body };
  } catch {
    if (r.kind === 'app') {
      const hint =
        'The console web app is not built. Run: node_modules/.bin/vite build --config services/console/web/vite.config.ts';
      return { status: 503, headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' }, body: hint };
    }
    return {
      status: 404,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'NOT_FOUND', message: 'no such file' }),
    };
  }
}
