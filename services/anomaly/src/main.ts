import { runService } from '@arcwatch/runtime';
import { createAnomalyApp } from './app';
import { loadAnomalyConfig } from './config';

let config: ReturnType<typeof loadAnomalyConfig>;
void runService({
  service: 'anomaly',
  loadConfig: () => (config = loadAnomalyConfig()),
  createApp: (logger) => createAnomalyApp({ config, logger }),
});
