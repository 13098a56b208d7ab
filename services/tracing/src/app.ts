import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, createServiceApp, type Clock, type Logger } from '@arcwatch/runtime';
import type { TracingConfig } from './config';
import { TracingModule } from './tracing.module';

export interface CreateTracingOptions {
  config: TracingConfig;
  logger?: Logger;
  clock?: Clock;
  /** Tests drive passes themselves (AssemblyWorker.runOnce) instead of the timer. */
  disableWorkerTimer?: boolean;
}

export async function createTracingApp(opts: CreateTracingOptions): Promise<NestFastifyApplication> {
  const logger = opts.logger ?? createLogger('tracing', opts.config.logLevel);
  return createServiceApp({
    logger,
    module: TracingModule.forRoot({ ...opts, logger }),
    bodyLimit: opts.config.bodyLimitBytes,
    // Parsed on an ingest thread (ingest-threads.ts), not on the main thread.
    deferredJsonRoutes: opts.config.ingestThreads > 0 ? ['/api/v1/requests/events'] : [],
    // OTLP/HTTP protobuf bodies arrive raw; the controller decodes them.
    configureFastify: (fastify) =>
      fastify.addContentTypeParser('application/x-protobuf', { parseAs: 'buffer' }, (_req, body, done) =>
        done(null, body),
      ),
  });
}
