import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, createServiceApp, type Clock, type Logger } from '@arcwatch/runtime';
import { AnomalyModule } from './anomaly.module';
import type { AnomalyConfig } from './config';

export interface CreateAnomalyOptions {
  config: AnomalyConfig;
  logger?: Logger;
  clock?: Clock;
}

export async function createAnomalyApp(opts: CreateAnomalyOptions): Promise<NestFastifyApplication> {
  const logger = opts.logger ?? createLogger('anomaly', opts.config.logLevel);
  return createServiceApp({
    logger,
    module: AnomalyModule.forRoot({ ...opts, logger }),
    bodyLimit: opts.config.bodyLimitBytes,
  });
}
