import { runService } from '@arcwatch/runtime';
import { createConsoleApp } from './app';
import { loadConsoleConfig } from './config';

let config: ReturnType<typeof loadConsoleConfig>;
void runService({
  service: 'console',
  loadConfig: () => (config = loadConsoleConfig()),
  createApp: (logger) => createConsoleApp({ config, logger }),
});
