import { Catch, type ArgumentsHost, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { CollectorError } from '../errors';

/** Prometheus's HTTP API envelope: `{status, data}` on success, `{status, errorType, error}` otherwise. */
export type PrometheusErrorType = 'bad_data' | 'execution' | 'internal' | 'unavailable' | 'not_found' | 'timeout' | 'canceled';

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

/** Maps CollectorError codes (and Nest's HTTP exceptions) to status codes in Prometheus's error shape. */
@Catch()
export class CollectorErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    let status = 500;
    let message = 'internal error';
    if (exception instanceof CollectorError) {
      status = exception.httpStatus;
      message = exception.message;
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      message = exception.message;
    } else if (exception instanceof Error) {
      message = exception.message;
    }
    void reply.status(status).send({ status: 'error', errorType: errorTypeFor(status), error: message });
  }
}
