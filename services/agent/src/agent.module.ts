import { Module, type DynamicModule } from '@nestjs/common';
import { RuntimeModule, type Clock, type Logger } from '@arcwatch/runtime';
import { AGENT_TIMER_DISABLED, AgentLoop } from './agent.loop';
import { CollectService } from './collect/collect.service';
import { AGENT_SETTINGS, type AgentSettings } from './config/agent-settings.loader';
import { DeliveryService } from './delivery/delivery.service';
import { AgentMetrics } from './metrics';

export interface AgentModuleOptions {
  settings: AgentSettings;
  logger: Logger;
  clock?: Clock;
  /** Tests drive intervals themselves (AgentLoop.tick). */
  disableTimer?: boolean;
}

/**
 * The agent: no database, and NATS not through RuntimeModule — the runtime's connection must
 * answer at boot and /readyz fails without it, while the agent has to start, read and spool on a
 * node whose NATS is away (DeliveryService owns its connection).
 */
@Module({})
export class AgentModule {
  static forRoot(opts: AgentModuleOptions): DynamicModule {
    return {
      module: AgentModule,
      imports: [
        RuntimeModule.forRoot({ service: 'agent', logger: opts.logger, ...(opts.clock ? { clock: opts.clock } : {}) }),
      ],
      providers: [
        { provide: AGENT_SETTINGS, useValue: opts.settings },
        { provide: AGENT_TIMER_DISABLED, useValue: opts.disableTimer === true },
        AgentMetrics,
        DeliveryService,
        CollectService,
        AgentLoop,
      ],
    };
  }
}
