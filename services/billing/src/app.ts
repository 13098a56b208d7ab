import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, createServiceApp, type Clock, type Logger } from '@arcwatch/runtime';
import { BillingModule } from './billing.module';
import type { BillingConfig } from './config';

export interface CreateBillingOptions {
  config: BillingConfig;
  logger?: Logger;
  clock?: Clock;
  /** Tests drive passes themselves (AllocationWorker.runOnce) instead of the timer. */
  disableWorkerTimer?: boolean;
}

export async function createBillingApp(opts: CreateBillingOptions): Promise<NestFastifyApplication> {
  const logger = opts.logger ?? createLogger('billing', opts.config.logLevel);
  return createServiceApp({
    logger,
    module: BillingModule.forRoot({ ...opts, logger }),
    bodyLimit: opts.config.bodyLimitBytes,
    configureFastify: (fastify) => {
      // Invoices arrive as CSV and are read as a stream, whatever their size; price catalogs as YAML text.
      fastify.addContentTypeParser('text/csv', (_req, payload, done) => done(null, payload));
      fastify.addContentTypeParser(
        ['text/yaml', 'application/yaml', 'application/x-yaml'],
        { parseAs: 'string' },
        (_req, body, done) => done(null, body),
      );
    },
  });
}
