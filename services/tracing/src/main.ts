import { runService } from '@arcwatch/runtime';
import { createTracingApp } from './app';
import { loadTracingConfig } from './config';

let config: ReturnType<typeof loadTracingConfig>;
void runService({
  service: 'tracing',
  loadConfig: () => (config = loadTracingConfig()),
  createApp: (logger) => createTracingApp({ config, logger }),
});
