import { FastifyAdapter, type NestFastifyBodyParserOptions } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';

type Done = (err: Error | null, body?: unknown) => void;
type BodyParser = (req: FastifyRequest, body: Buffer, done: Done) => void;

/**
 * Fastify under Nest, with one change to how JSON request bodies are read: before Nest's parser
 * (Fastify's, with its prototype-poisoning guard) runs, the body is checked for text PostgreSQL
 * cannot store. A JSON string can carry a NUL character (`\u0000`) or half of a surrogate pair
 * (`\ud800` alone) only as an escape; PostgreSQL's text and jsonb refuse both, so a body holding
 * one would fail wherever it reached the database. It is refused here, for every route of every
 * service, with where it was.
 */
export class ServiceFastifyAdapter extends FastifyAdapter {
  /** Routes (as declared, e.g. `/api/v1/x`) whose JSON bodies reach the handler unparsed, as DeferredJson. */
  deferredJsonRoutes: ReadonlySet<string> = new Set();

  override useBodyParser(
    type: string | string[] | RegExp,
    rawBody: boolean,
    options?: NestFastifyBodyParserOptions,
    parser?: BodyParser,
  ): void {
    super.useBodyParser(
      type,
      rawBody,
      options,
      type === 'application/json' && parser ? guardJson(this.deferring(parser)) : parser,
    );
  }

  private deferring(parser: BodyParser): BodyParser {
    return (req, body, done) => {
      if (body.length > 0 && this.deferredJsonRoutes.has(req.routeOptions.url ?? ''))
        done(null, new DeferredJson(body, req, parser));
      else parser(req, body, done);
    };
  }
}

/**
 * A JSON body that a route parses itself, elsewhere (the tracing ingest hands it to a worker
 * thread). It has passed the checks every JSON body passes (size, unstorable escapes); `parse`
 * is Fastify's parser on the same bytes, for the exact error Fastify would have answered with
 * (given back by whoever the bytes were moved to, when they were).
 */
export class DeferredJson {
  constructor(
    readonly bytes: Buffer,
    private readonly req: FastifyRequest,
    private readonly parser: BodyParser,
  ) {}

  parse(bytes: Buffer = this.bytes): unknown {
    let out: { err: Error | null; body?: unknown } | undefined;
    this.parser(this.req, bytes, (err, body) => (out = { err, body }));
    if (out === undefined) throw new Error('the JSON body parser did not answer at once');
    if (out.err) throw out.err;
    return out.body;
  }
}

/** `parser` behind the check for unstorable escapes. */
export function guardJson(parser: BodyParser): BodyParser {
  return (req, body, done) => {
    // the escapes are ASCII: most bodies (no `\u` at all) are passed on without decoding
    const bad = body.includes('\\u') ? unstorableEscape(body.toString('utf8')) : undefined;
    if (!bad) {
      parser(req, body, done);
      return;
    }
    const err = new Error(
      `request body holds ${bad.what} at character ${bad.offset}, which cannot be stored; remove it or replace it (U+FFFD)`,
    ) as Error & { statusCode: number };
    err.statusCode = 400;
    done(err, undefined);
  };
}

const ESCAPE = /(\\+)u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})/g;
const LOW = /^\\u[dD][c-fC-F][0-9a-fA-F]{2}/;

/**
 * The first `\u0000` escape or lone surrogate escape in JSON text, with its offset; undefined when
 * there is none. An escaped backslash before `u` (`\\u0000`, the six characters) is not one.
 */
export function unstorableEscape(text: string): { offset: number; what: string } | undefined {
  if (text.indexOf('\\u') < 0) return undefined;
  ESCAPE.lastIndex = 0;
  for (let m = ESCAPE.exec(text); m; m = ESCAPE.exec(text)) {
    if (m[1]!.length % 2 === 0) continue; // the backslashes escape each other
    const offset = m.index + m[1]!.length - 1;
    const code = m[2]!.toLowerCase();
    if (code === '0000') return { offset, what: 'a NUL character (\\u0000)' };
    const high = code < 'dc00';
    const after = offset + 6;
    if (high && LOW.test(text.slice(after, after + 6))) {
      ESCAPE.lastIndex = after + 6;
      continue;
    }
    return { offset, what: `a lone surrogate (\\u${code})` };
  }
  return undefined;
}
