import { runService } from '@arcwatch/runtime';
import { createNotifierApp } from './app';
import { loadNotifierConfig } from './config';

let config: ReturnType<typeof loadNotifierConfig>;
void runService({
  service: 'notifier',
  loadConfig: () => (config = loadNotifierConfig()),
  createApp: (logger) => createNotifierApp({ config, logger }),
});
