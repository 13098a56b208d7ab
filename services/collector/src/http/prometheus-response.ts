import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpErrorFilter, ServiceError, clientMessage, httpCode, type Logger } from '@arcwatch/runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { QueryApiError } from '../query/query-errors';

/** Prometheus's HTTP API envelope: `{status, data}` on success, `{status, errorType, error}` otherwise. */
export type PrometheusErrorType =
  'bad_data' | 'execution' | 'internal' | 'unavailable' | 'not_found' | 'timeout' | 'canceled';

export function success<T>(data: T, warnings?: string[]): { status: 'success'; data: T; warnings?: string[] } {
  return warnings && warnings.length > 0 ? { status: 'success', data, warnings } : { status: 'success', data };
}

function errorTypeFor(status: number): PrometheusErrorType {
  if (status === 400) return 'bad_data';
  if (status === 422) return 'execution';
  if (status === 404) return 'not_found';
  if (status === 503) return 'unavailable';
  if (status === 504) return 'timeout';
  return 'internal';
}

function isFastifyClientError(err: unknown): err is Error & { statusCode: number } {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return err instanceof Error && typeof s === 'number' && s >= 400 && s < 500;
}

const ACCESS_STATUSES: ReadonlySet<number> = new Set([401, 403, 413]);

/** Every /api/v1 route of the collector is a Prometheus-compatible one (query, catalog, remote_write, import). */
export function isPrometheusRoute(url: string): boolean {
  return url === '/api/v1' || url.startsWith('/api/v1/') || url.startsWith('/api/v1?');
}

/**
 * The collector's HTTP error filter, installed globally so that it also sees what fails before a
 * controller runs (body parsing, unknown routes). The Prometheus-compatible routes answer in
 * Prometheus's error body, so that Grafana, promtool and remote_write senders read it as
 * Prometheus's own; every other route answers with the runtime's HttpErrorFilter. The query
 * API's errors carry their errorType (execution → 422, timeout → 503, which a status alone cannot
 * tell apart); coded errors map by their status. Internal failures are logged and answered with
 * a generic message. Refusals that Prometheus itself never gives (401, 403, 413: tokens and the
 * body limit) also carry ArcWatch's `code` and `message`, which a Prometheus client ignores, so
 * they read the same on every service; every other error body is exactly Prometheus's.
 */
@Catch()
export class CollectorErrorFilter implements ExceptionFilter {
  private readonly standard: HttpErrorFilter;

  constructor(
    private readonly logger: Logger,
    private readonly bodyLimit?: number,
  ) {
    this.standard = new HttpErrorFilter(logger, bodyLimit);
  }

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    if (!isPrometheusRoute(http.getRequest<FastifyRequest>().url)) {
      this.standard.catch(err, host);
      return;
    }
    const { status, errorType, error, code } = this.describe(err);
    void http
      .getResponse<FastifyReply>()
      .header('content-type', 'application/json; charset=utf-8')
      .status(status)
      .send({
        status: 'error',
        errorType,
        error,
        ...(ACCESS_STATUSES.has(status) ? { code, message: error } : {}),
      });
  }

  private describe(err: unknown): { status: number; errorType: PrometheusErrorType; error: string; code: string } {
    const of = (status: number, error: string) => ({
      status,
      errorType: errorTypeFor(status),
      error,
      code: httpCode(status),
    });
    if (err instanceof QueryApiError) {
      const code = httpCode(err.httpStatus);
      if (err.errorType !== 'internal')
        return { status: err.httpStatus, errorType: err.errorType, error: err.message, code };
      this.logger.error({ err }, 'query failed');
      return { status: err.httpStatus, errorType: 'internal', error: 'internal error', code };
    }
    if (err instanceof ServiceError) {
      if (err.status >= 500) this.logger.error({ err, code: err.code }, err.message);
      return { ...of(err.status, err.publicMessage), code: err.code };
    }
    if (err instanceof HttpException)
      return of(
        err.getStatus(),
        err.getStatus() === 413 ? clientMessage({ statusCode: 413 }, this.bodyLimit) : err.message,
      );
    if (isFastifyClientError(err)) return of(err.statusCode, clientMessage(err, this.bodyLimit));
    this.logger.error({ err }, 'unhandled error');
    return of(500, 'internal error');
  }
}
