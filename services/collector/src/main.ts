import { runService } from '@arcwatch/runtime';
import { createCollectorApp } from './app';
import { loadCollectorConfig, type CollectorConfig } from './config';

let config: CollectorConfig | undefined;
const loadConfig = (): CollectorConfig => (config ??= loadCollectorConfig());

void runService({
  service: 'collector',
  loadConfig,
  createApp: async (logger) => {
    const c = loadConfig();
    logger.info({ role: c.role, config: c.scrapeConfigFile ?? null, rules: c.ruleFiles }, 'collector configured');
    return createCollectorApp(c, { logger });
  },
});
