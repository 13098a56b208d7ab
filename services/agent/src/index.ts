export { Agent, createAgent, type CreateAgentOptions } from './app';
export { loadAgentEnv, agentEnv, type AgentEnv } from './config';
export { loadAgentSettings, type AgentSettings } from './config/agent-settings.loader';
export { AgentLoop } from './agent.loop';
export { DeliveryService } from './delivery/delivery.service';
