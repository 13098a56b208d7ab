import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { CollectorErrorFilter } from '../http/prometheus-response';
import { QueryApiError } from './query-errors';

/**
 * The query endpoints' errors carry Prometheus's errorType themselves (execution → 422,
 * timeout → 503), which a status-code-based mapping cannot recover; everything else goes to the
 * collector's own filter.
 */
@Catch()
export class QueryErrorFilter implements ExceptionFilter {
  private readonly fallback = new CollectorErrorFilter();

  catch(exception: unknown, host: ArgumentsHost): void {
    if (!(exception instanceof QueryApiError)) {
      this.fallback.catch(exception, host);
      return;
    }
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    void reply.status(exception.httpStatus).send({ status: 'error', errorType: exception.errorType, error: exception.message });
  }
}
