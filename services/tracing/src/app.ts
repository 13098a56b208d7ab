import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, createServiceApp, type Clock, type Logger } from '@arcwatch/runtime';
import type { TracingConfig } from './config';
import { TracingModule } from './tracing.module';

/** 10,000 events of a few hundred bytes each, with room to spare. */
const BODY_LIMIT_BYTES = 32 * 1024 * 1024;

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
    bodyLimit: BODY_LIMIT_BYTES,
    // OTLP/HTTP protobuf bodies arrive raw; the controller decodes them.
    configureFastify: (fastify) =>
      fastify.addContentTypeParser('application/x-protobuf', { parseAs: 'buffer' }, (_req, body, done) =>
        done(null, body),
      ),
  });
}
