import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest, type RequestOptions as HttpsRequestOptions } from 'node:https';
import type { SecureVersion } from 'node:tls';
import { createGunzip, createInflate } from 'node:zlib';
import { CollectorError } from '../errors';
import type { ScrapeHttpConfig, TlsVersion } from '../config/scrape-config.schema';

/** What Prometheus 2.x sends: OpenMetrics preferred, text 0.0.4 accepted. */
const ACCEPT =
  'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
const MAX_REDIRECTS = 10;

export interface FetchedExposition {
  body: string;
  contentType: string | undefined;
}

export interface FetchOptions {
  /** Most bytes of the uncompressed body; 0 = none. Past it the scrape fails, as in Prometheus. */
  bodySizeLimit?: number;
  http?: ScrapeHttpConfig;
}

const TLS_VERSIONS: Record<TlsVersion, SecureVersion> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

async function pem(src: { file?: string; pem?: string } | undefined, what: string): Promise<string | undefined> {
  if (src === undefined) return undefined;
  if (src.pem !== undefined) return src.pem;
  try {
    return await readFile(src.file!, 'utf8');
  } catch (err) {
    throw new CollectorError('SCRAPE_FAILED', `unable to read ${what} ${src.file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function secret(value: string | undefined, file: string | undefined, what: string): Promise<string> {
  if (file === undefined) return value ?? '';
  try {
    // Read at every scrape so that a rotated secret is picked up; trailing newlines are not part of it.
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    throw new CollectorError('SCRAPE_FAILED', `unable to read ${what} ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** The Authorization header a scrape config asks for, or undefined. */
export async function authorizationHeader(cfg: ScrapeHttpConfig | undefined): Promise<string | undefined> {
  if (cfg?.authorization) {
    const a = cfg.authorization;
    return `${a.type} ${await secret(a.credentials, a.credentialsFile, 'credentials file')}`;
  }
  if (cfg?.basicAuth) {
    const b = cfg.basicAuth;
    const user = await secret(b.username, b.usernameFile, 'username file');
    const pass = await secret(b.password, b.passwordFile, 'password file');
    return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  }
  return undefined;
}

async function tlsOptions(cfg: ScrapeHttpConfig | undefined): Promise<HttpsRequestOptions> {
  const t = cfg?.tls;
  if (!t) return {};
  const [ca, cert, key] = await Promise.all([
    pem(t.ca, 'CA file'),
    pem(t.cert, 'client certificate'),
    pem(t.key, 'client key'),
  ]);
  return {
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(t.serverName !== undefined ? { servername: t.serverName } : {}),
    ...(t.minVersion !== undefined ? { minVersion: TLS_VERSIONS[t.minVersion] } : {}),
    ...(t.maxVersion !== undefined ? { maxVersion: TLS_VERSIONS[t.maxVersion] } : {}),
    rejectUnauthorized: !t.insecureSkipVerify,
  };
}

function get(
  url: URL,
  headers: Record<string, string>,
  tls: HttpsRequestOptions,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const base: RequestOptions = { method: 'GET', headers, signal };
    const req = url.protocol === 'https:' ? httpsRequest(url, { ...base, ...tls }) : httpRequest(url, base);
    req.once('response', resolve);
    req.once('error', reject);
    req.end();
  });
}

/** The body, decompressed, refused once it passes `limit` bytes (0: no limit). */
async function readBody(res: IncomingMessage, limit: number, url: string): Promise<string> {
  const encoding = (res.headers['content-encoding'] ?? '').toLowerCase();
  const stream =
    encoding === 'gzip' ? res.pipe(createGunzip()) : encoding === 'deflate' ? res.pipe(createInflate()) : res;
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (limit > 0 && size > limit) {
      res.destroy();
      throw new CollectorError('SCRAPE_FAILED', `GET ${url}: body size limit exceeded (more than ${limit} bytes)`);
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

/**
 * One HTTP(S) GET of a target's metrics, bounded by the scrape timeout, with the job's TLS
 * material and credentials; redirects are followed (Prometheus's follow_redirects default).
 */
export async function fetchExposition(
  url: string,
  timeoutMs: number,
  opts: FetchOptions = {},
): Promise<FetchedExposition> {
  const signal = AbortSignal.timeout(timeoutMs);
  const timedOut = () => new CollectorError('SCRAPE_TIMEOUT', `scrape of ${url} timed out after ${timeoutMs} ms`);
  const [auth, tls] = await Promise.all([authorizationHeader(opts.http), tlsOptions(opts.http)]);
  const headers: Record<string, string> = {
    Accept: ACCEPT,
    'Accept-Encoding': 'gzip',
    'User-Agent': 'arcwatch-collector/0.1',
    'X-Prometheus-Scrape-Timeout-Seconds': String(timeoutMs / 1000),
    ...(auth !== undefined ? { Authorization: auth } : {}),
  };
  let current = new URL(url);
  try {
    for (let hop = 0; ; hop++) {
      const res = await get(current, headers, tls, signal);
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && hop < MAX_REDIRECTS) {
        res.resume();
        current = new URL(res.headers.location, current);
        continue;
      }
      if (status < 200 || status >= 300) {
        res.resume();
        throw new CollectorError(
          'SCRAPE_FAILED',
          `GET ${url}: server returned HTTP status ${status} ${res.statusMessage ?? ''}`.trimEnd(),
        );
      }
      const body = await readBody(res, opts.bodySizeLimit ?? 0, url);
      return { body, contentType: res.headers['content-type'] };
    }
  } catch (err) {
    if (err instanceof CollectorError) throw err;
    const e = err as Error;
    if (signal.aborted || e.name === 'TimeoutError' || e.name === 'AbortError') throw timedOut();
    throw new CollectorError('SCRAPE_FAILED', `GET ${url}: ${e.message}`, { cause: err });
  }
}
