// What tests and tools use from outside the service; the app starts from main.ts.
export { createConsoleApp, DEFAULT_WEB_DIR } from './app';
export { consoleEnv, loadConsoleConfig, type ConsoleConfig } from './config';
export { ConsoleError } from './errors';
