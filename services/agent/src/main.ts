import { runService } from '@arcwatch/runtime';
import { createAgentApp } from './app';
import { loadAgentEnv, type AgentEnv } from './config';
import { loadAgentSettings, type AgentSettings } from './config/agent-settings.loader';

let env: AgentEnv;
let settings: AgentSettings;
void runService({
  service: 'agent',
  loadConfig: () => {
    env = loadAgentEnv();
    settings = loadAgentSettings(env);
    return env;
  },
  createApp: (logger) => createAgentApp({ settings, logger }),
});
