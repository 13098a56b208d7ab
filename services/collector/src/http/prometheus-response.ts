import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpErrorFilter, ServiceError, type Logger } from '@arcwatch/runtime';
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
 * a generic message.
 */
@Catch()
export class CollectorErrorFilter implements ExceptionFilter {
  private readonly standard: HttpErrorFilter;

  constructor(private readonly logger: Logger) {
    this.standard = new HttpErrorFilter(logger);
  }

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    if (!isPrometheusRoute(http.getRequest<FastifyRequest>().url)) {
      this.standard.catch(err, host);
      return;
    }
    const { status, errorType, error } = this.describe(err);
    void http.getResponse<FastifyReply>().status(status).send({ status: 'error', errorType, error });
  }

  private describe(err: unknown): { status: number; errorType: PrometheusErrorType; error: string } {
    if (err instanceof QueryApiError) {
      if (err.errorType !== 'internal') return { status: err.httpStatus, errorType: err.errorType, error: err.message };
      this.logger.error({ err }, 'query failed');
      return { status: err.httpStatus, errorType: 'internal', error: 'internal error' };
    }
    if (err instanceof ServiceError) {
      if (err.status >= 500) this.logger.error({ err, code: err.code }, err.message);
      return { status: err.status, errorType: errorTypeFor(err.status), error: err.publicMessage };
    }
    if (err instanceof HttpException)
      return { status: err.getStatus(), errorType: errorTypeFor(err.getStatus()), error: err.message };
    if (isFastifyClientError(err))
      return { status: err.statusCode, errorType: errorTypeFor(err.statusCode), error: err.message };
    this.logger.error({ err }, 'unhandled error');
    return { status: 500, errorType: 'internal', error: 'internal error' };
  }
}
