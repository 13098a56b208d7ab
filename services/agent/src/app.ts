import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, createServiceApp, type Clock, type Logger } from '@arcwatch/runtime';
import { AgentModule } from './agent.module';
import type { AgentSettings } from './config/agent-settings.loader';

export interface CreateAgentOptions {
  settings: AgentSettings;
  logLevel?: Parameters<typeof createLogger>[1];
  logger?: Logger;
  clock?: Clock;
  disableTimer?: boolean;
}

export async function createAgentApp(opts: CreateAgentOptions): Promise<NestFastifyApplication> {
  const logger = opts.logger ?? createLogger('agent', opts.logLevel ?? 'info');
  return createServiceApp({ logger, module: AgentModule.forRoot({ ...opts, logger }) });
}
