import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { MessagingError } from '@arcwatch/messaging';
import { TracingError, type TracingErrorCode } from './tracing.errors';

const STATUS: Record<TracingErrorCode, number> = {
  CONFIG_INVALID: 500,
  BATCH_INVALID: 400,
  BATCH_TOO_LARGE: 400,
  OTLP_INVALID: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  REQUEST_NOT_FOUND: 404,
  QUERY_INVALID: 400,
};

/** The HTTP mapping of error codes: `{ code, message }` with the code's status. */
@Catch()
export class TracingErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(TracingErrorFilter.name);

  catch(err: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (err instanceof TracingError) {
      void reply.status(STATUS[err.code]).send({ code: err.code, message: err.message });
    } else if (err instanceof MessagingError) {
      // The stream did not take the events: the client should retry the whole batch.
      this.logger.warn(err.message);
      void reply.status(503).send({ code: err.code, message: 'event stream unavailable; retry the batch' });
    } else if (err instanceof HttpException) {
      void reply.status(err.getStatus()).send({ code: 'HTTP_ERROR', message: err.message });
    } else {
      this.logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      void reply.status(500).send({ code: 'INTERNAL', message: 'internal error' });
    }
  }
}
