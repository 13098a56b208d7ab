import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { ServiceError } from '../errors';

/** The error body of every ArcWatch HTTP API (docs/http-api.md): a code and a message. */
export interface ErrorBody {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

interface MessagingLikeError {
  name: string;
  code: string;
  message: string;
}

function isMessagingError(err: unknown): err is MessagingLikeError {
  return err instanceof Error && err.name === 'MessagingError';
}

/**
 * The HTTP transport's mapping of errors: a ServiceError by its code's status, Nest's own
 * HttpExceptions (validation, 404 routes, readiness 503) as they are, the event stream being
 * away as 503, anything else 500 with a generic message — internal messages never reach clients.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(
    private readonly logger: Logger,
    /** The app's body limit, named in the 413 answer. */
    private readonly bodyLimit?: number,
  ) {}

  catch(err: unknown, host: ArgumentsHost): void {
    // A route that answers CSV or text has set its content type already; an error is JSON.
    const reply = host
      .switchToHttp()
      .getResponse<FastifyReply>()
      .header('content-type', 'application/json; charset=utf-8');
    if (err instanceof ServiceError) {
      if (err.status >= 500) this.logger.error({ err, code: err.code }, err.message);
      const body: ErrorBody = {
        code: err.code,
        message: err.publicMessage,
        ...(err.expose && err.details ? { details: err.details } : {}),
      };
      void reply.status(err.status).send(body);
    } else if (err instanceof HttpException) {
      const res = err.getResponse();
      const status = err.getStatus();
      if (typeof res === 'object' && res !== null && 'status' in res && 'details' in res) {
        void reply.status(status).send(res); // a health-check result
      } else {
        const message =
          status === 413
            ? clientMessage({ statusCode: 413 }, this.bodyLimit)
            : typeof res === 'string'
              ? res
              : err.message;
        void reply.status(status).send({ code: httpCode(status), message } satisfies ErrorBody);
      }
    } else if (isMessagingError(err)) {
      this.logger.warn({ code: err.code }, err.message);
      void reply
        .status(503)
        .send({ code: 'DEPENDENCY_UNAVAILABLE', message: 'event stream unavailable; retry' } satisfies ErrorBody);
    } else if (isFastifyClientError(err)) {
      void reply
        .status(err.statusCode)
        .send({ code: httpCode(err.statusCode), message: clientMessage(err, this.bodyLimit) } satisfies ErrorBody);
    } else {
      this.logger.error({ err }, 'unhandled error');
      void reply.status(500).send({ code: 'INTERNAL', message: 'internal error' } satisfies ErrorBody);
    }
  }
}

function isFastifyClientError(err: unknown): err is Error & { statusCode: number } {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return err instanceof Error && typeof s === 'number' && s >= 400 && s < 500;
}

/** Fastify's own 4xx text, except for the body limit, which says what the limit is. */
export function clientMessage(err: { statusCode: number; message?: string }, bodyLimit?: number): string {
  if (err.statusCode === 413)
    return bodyLimit === undefined
      ? 'request body is too large'
      : `request body is larger than this service accepts (${bodyLimit} bytes)`;
  return err.message ?? httpCode(err.statusCode);
}

export function httpCode(status: number): string {
  const codes: Record<number, string> = {
    400: 'BAD_REQUEST',
    401: 'UNAUTHENTICATED',
    403: 'FORBIDDEN',
    404: 'NOT_FOUND',
    405: 'METHOD_NOT_ALLOWED',
    409: 'CONFLICT',
    413: 'PAYLOAD_TOO_LARGE',
    415: 'UNSUPPORTED_MEDIA_TYPE',
    429: 'RATE_LIMITED',
    503: 'DEPENDENCY_UNAVAILABLE',
  };
  return codes[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
}
