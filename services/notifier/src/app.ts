import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, createServiceApp, type Clock, type Logger } from '@arcwatch/runtime';
import type { NotifierConfig } from './config';
import { NotifierModule } from './notifier.module';

export interface CreateNotifierOptions {
  config: NotifierConfig;
  logger?: Logger;
  clock?: Clock;
}

export async function createNotifierApp(opts: CreateNotifierOptions): Promise<NestFastifyApplication> {
  const logger = opts.logger ?? createLogger('notifier', opts.config.logLevel);
  return createServiceApp({
    logger,
    module: NotifierModule.forRoot({ ...opts, logger }),
    bodyLimit: opts.config.bodyLimitBytes,
  });
}
