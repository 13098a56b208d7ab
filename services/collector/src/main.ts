import { createCollectorApp } from './app.factory';
import { loadCollectorConfig } from './config';
import { ConfigFileError } from './config/scrape-config.loader';
import { createLogger } from './core/logger';

async function main(): Promise<void> {
  const config = loadCollectorConfig();
  const logger = createLogger(config.logLevel);
  try {
    const app = await createCollectorApp(config, { logger });
    await app.listen(config.port, config.host);
    logger.info({ port: config.port, role: config.role, config: config.scrapeConfigFile ?? null }, 'collector started');
  } catch (err) {
    if (err instanceof ConfigFileError) {
      for (const i of err.issues) logger.fatal({ file: i.file, line: i.line, column: i.column, field: i.field }, i.message);
    } else {
      logger.fatal({ err }, 'collector failed to start');
    }
    process.exit(1);
  }
}

void main();
