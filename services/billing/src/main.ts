import { runService } from '@arcwatch/runtime';
import { createBillingApp } from './app';
import { loadBillingConfig } from './config';

let config: ReturnType<typeof loadBillingConfig>;
void runService({
  service: 'billing',
  loadConfig: () => (config = loadBillingConfig()),
  createApp: (logger) => createBillingApp({ config, logger }),
});
