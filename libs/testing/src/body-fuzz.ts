import fc from 'fast-check';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { registeredRoutes, type RegisteredRoute } from '@arcwatch/runtime';
import { authHeaders } from './auth';

/**
 * Generated request bodies against every route of an app that takes one. The routes come from
 * what Fastify registered, so a route added later is fuzzed without naming it. Each answer must
 * be below 500, a 4xx must carry an error `code`, and the app must still answer /healthz.
 * `ARCWATCH_FUZZ_RUNS` sets the inputs per route (`npm run fuzz`: 100,000); `ARCWATCH_FUZZ_ROUTES`
 * (a regular expression over `METHOD /path`) narrows a long run to some routes.
 */
export const FUZZ_RUNS = Number(process.env.ARCWATCH_FUZZ_RUNS || 60);
/** The jest timeout of a spec that fuzzes every route of an app: a long run takes hours. */
export const FUZZ_TIMEOUT_MS = process.env.ARCWATCH_FUZZ_RUNS ? 24 * 3_600_000 : 60_000;
const ROUTE_FILTER = process.env.ARCWATCH_FUZZ_ROUTES ? new RegExp(process.env.ARCWATCH_FUZZ_ROUTES) : undefined;

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface BodySeed {
  contentType: string;
  /** A valid body: objects are sent as JSON and mutated field by field. */
  body: string | Buffer | object;
  headers?: Record<string, string>;
}

export interface BodyFuzzOptions {
  /** Valid bodies per route key (`POST /api/v2/alerts`) that generated inputs start from. */
  seeds?: Record<string, BodySeed[]>;
  /** Values tried for path parameters (`:fingerprint`) beside generated strings. */
  params?: Record<string, string[]>;
  /** Route-specific raw bodies (truncated protobuf, snappy) sent with the seed's headers. */
  raw?: Record<string, fc.Arbitrary<Buffer>>;
  headers?: Record<string, string>;
  runs?: number;
  /**
   * The error code of a 4xx body; `code` unless stated (the collector's Prometheus-compatible
   * routes answer Prometheus's `errorType` instead).
   */
  errorCode?: (body: Record<string, unknown>) => unknown;
}

export interface FuzzInject {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload: string | Buffer;
}

/** `METHOD /path` of every registered route that takes a body. */
export function bodyRoutes(app: NestFastifyApplication): string[] {
  return registeredRoutes(app)
    .filter((r: RegisteredRoute) => BODY_METHODS.has(r.method))
    .map((r) => `${r.method} ${r.url}`)
    .sort();
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'text/plain; version=0.0.4',
  'application/openmetrics-text; version=1.0.0',
  'application/x-www-form-urlencoded',
  'application/x-protobuf',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  'text/csv',
  'application/yaml',
  'text/html',
  'garbage/;;;=',
  '',
];

/**
 * Built on first use: fast-check's binary-string arbitrary takes over a second to build, and this
 * module is loaded by every spec that imports @arcwatch/testing, most of which fuzz nothing.
 */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

const scalar = once(() =>
  fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(
      '',
      '-1',
      'NaN',
      'Infinity',
      '1e309',
      '9007199254740993',
      '2026-13-45T25:61:61Z',
      '__proto__',
      'a\u0000b',
      '\ud800',
    ),
    fc.integer({ min: 1, max: 100_000 }).map((n) => 'x'.repeat(n)),
  ),
);
const wrongValue = once(() =>
  fc.oneof(scalar(), fc.array(scalar(), { maxLength: 3 }), fc.dictionary(fc.string(), scalar()), fc.jsonValue()),
);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function paths(v: Json, at: Array<string | number> = [], out: Array<Array<string | number>> = []) {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) paths(v[k]!, [...at, k], out);
  return out;
}

function replaced(root: Json, at: Array<string | number>, value: Json | undefined): Json {
  if (at.length === 0) return value === undefined ? null : value;
  const copy: Json = Array.isArray(root) ? [...root] : { ...(root as Record<string, Json>) };
  let node = copy as Record<string | number, Json>;
  for (let i = 0; i < at.length - 1; i++) {
    const next = node[at[i]!];
    const cloned: Json = Array.isArray(next) ? [...next] : { ...(next as Record<string, Json>) };
    node[at[i]!] = cloned;
    node = cloned as Record<string | number, Json>;
  }
  const last = at[at.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(node)) (node as Json[]).splice(Number(last), 1);
    else delete node[last];
  } else node[last] = value;
  return copy;
}

/** A valid JSON body with up to four fields replaced by wrong types, huge strings or removed. */
function mutatedJson(seed: Json): fc.Arbitrary<string> {
  const all = paths(seed);
  return fc
    .array(fc.tuple(fc.nat(all.length - 1), fc.option(wrongValue() as fc.Arbitrary<Json>, { nil: undefined })), {
      minLength: 1,
      maxLength: 4,
    })
    .map((edits) => {
      let v = seed;
      for (const [i, value] of edits) {
        try {
          v = replaced(v, all[i]!, value);
        } catch {
          // An earlier edit removed or replaced this path's parent; the others still apply.
        }
      }
      return JSON.stringify(v);
    });
}

/** A valid raw body cut short, with bytes flipped, or with junk spliced in. */
function mutatedBytes(seed: Buffer): fc.Arbitrary<Buffer> {
  return fc.oneof(
    fc.nat(seed.length).map((n) => seed.subarray(0, n)),
    fc
      .array(fc.tuple(fc.nat(Math.max(seed.length - 1, 0)), fc.integer({ min: 0, max: 255 })), { maxLength: 6 })
      .map((flips) => {
        const b = Buffer.from(seed);
        for (const [i, v] of flips) if (i < b.length) b[i] = v;
        return b;
      }),
    fc
      .tuple(fc.nat(seed.length), fc.uint8Array({ minLength: 1, maxLength: 40 }))
      .map(([at, junk]) => Buffer.concat([seed.subarray(0, at), Buffer.from(junk), seed.subarray(at)])),
  );
}

const genericBody = once<fc.Arbitrary<string | Buffer>>(() =>
  fc.oneof(
    fc.constant(''),
    fc.json(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string({ unit: 'binary' }),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    // Invalid UTF-8 inside otherwise plausible JSON.
    fc
      .uint8Array({ minLength: 1, maxLength: 20 })
      .map((b) => Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28, 0xff, ...b]), Buffer.from('"}')])),
    fc.integer({ min: 1, max: 20_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
    fc.integer({ min: 1, max: 5_000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
    fc.integer({ min: 1_000, max: 300_000 }).map((n) => JSON.stringify({ a: 'x'.repeat(n) })),
    fc.constantFrom('null', 'true', '0', '""', '[]', '{}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}'),
  ),
);

function pathValue(given: string[] | undefined): fc.Arbitrary<string> {
  const generated = fc.string({ minLength: 1, maxLength: 300 }).map(encodeURIComponent);
  return given && given.length > 0 ? fc.oneof(fc.constantFrom(...given.map(encodeURIComponent)), generated) : generated;
}

function seedBody(seed: BodySeed): fc.Arbitrary<string | Buffer> {
  if (Buffer.isBuffer(seed.body)) return mutatedBytes(seed.body);
  if (typeof seed.body === 'string') {
    const bytes = Buffer.from(seed.body);
    return fc.oneof(
      mutatedBytes(bytes),
      mutatedBytes(bytes).map((b) => b.toString('latin1')),
    );
  }
  return mutatedJson(seed.body as Json);
}

/** Requests for one route: path parameters, content type, encoding and body all generated. */
export function fuzzRequests(routeKey: string, opts: BodyFuzzOptions = {}): fc.Arbitrary<FuzzInject> {
  const [method, pattern] = routeKey.split(' ') as [string, string];
  const names = [...pattern.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  const url = fc
    .tuple(...names.map((n) => pathValue(opts.params?.[n])))
    .map((values) => names.reduce((u, n, i) => u.replace(`:${n}`, values[i]!), pattern));
  const seeds = opts.seeds?.[routeKey] ?? [];
  const raw = opts.raw?.[routeKey];
  const bodies: Array<fc.Arbitrary<{ payload: string | Buffer; seed?: BodySeed }>> = [
    genericBody().map((payload) => ({ payload })),
    ...seeds.map((seed) => seedBody(seed).map((payload) => ({ payload, seed }))),
  ];
  if (raw) bodies.push(raw.map((payload) => ({ payload, seed: seeds[0] })));
  const contentTypes = [...new Set([...seeds.map((s) => s.contentType), ...CONTENT_TYPES])];
  return fc
    .record({
      url,
      body: fc.oneof(...bodies),
      // The seed's own content type half the time, so bodies reach the handler, not only the parser.
      useSeedType: fc.boolean(),
      contentType: fc.constantFrom(...contentTypes),
      encoding: fc.oneof(
        { weight: 3, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom('snappy', 'gzip', 'identity', 'br', 'x') },
      ),
    })
    .map(({ url, body, useSeedType, contentType, encoding }) => {
      const headers: Record<string, string> = { ...(opts.headers ?? authHeaders()) };
      const type = useSeedType && body.seed ? body.seed.contentType : contentType;
      if (type !== '') headers['content-type'] = type;
      if (useSeedType && body.seed?.headers) Object.assign(headers, body.seed.headers);
      if (encoding !== undefined) headers['content-encoding'] = encoding;
      return { method, url, headers, payload: body.payload };
    });
}

function describeRequest(r: FuzzInject): string {
  const body = typeof r.payload === 'string' ? r.payload : r.payload.toString('base64');
  return `${r.method} ${r.url.slice(0, 200)} ${JSON.stringify(r.headers)} body(${r.payload.length}): ${body.slice(0, 300)}`;
}

/**
 * Sends `runs` generated requests to one route in-process and fails on the first 5xx, a 4xx
 * without an error code, or a thrown inject; then checks /healthz still answers.
 */
export async function fuzzRouteBodies(
  app: NestFastifyApplication,
  routeKey: string,
  opts: BodyFuzzOptions = {},
): Promise<{ statuses: Record<number, number> }> {
  const fastify = app.getHttpAdapter().getInstance();
  const statuses: Record<number, number> = {};
  if (ROUTE_FILTER && !ROUTE_FILTER.test(routeKey)) return { statuses };
  await fc.assert(
    fc.asyncProperty(fuzzRequests(routeKey, opts), async (req) => {
      const res = await fastify.inject({
        method: req.method as 'POST',
        url: req.url,
        headers: req.headers,
        payload: req.payload,
      });
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      if (res.statusCode >= 500)
        throw new Error(`${res.statusCode} ${res.body.slice(0, 500)} for ${describeRequest(req)}`);
      if (res.statusCode >= 400) {
        let code: unknown;
        try {
          const parsed = JSON.parse(res.body) as Record<string, unknown>;
          code = (opts.errorCode ?? ((b) => b.code))(parsed);
        } catch {
          code = undefined;
        }
        if (typeof code !== 'string' || code === '')
          throw new Error(
            `${res.statusCode} without an error code: ${res.body.slice(0, 300)} for ${describeRequest(req)}`,
          );
      }
    }),
    { numRuns: opts.runs ?? FUZZ_RUNS },
  );
  const health = await fastify.inject({ method: 'GET', url: '/healthz' });
  if (health.statusCode !== 200) throw new Error(`/healthz answered ${health.statusCode} after fuzzing ${routeKey}`);
  // A long run says what it covered: the count per status shows bodies reached the handlers.
  if (process.env.ARCWATCH_FUZZ_RUNS)
    console.log(`${routeKey}: ${opts.runs ?? FUZZ_RUNS} inputs, statuses ${JSON.stringify(statuses)}`);
  return { statuses };
}
