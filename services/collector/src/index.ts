export { createCollectorApp, type CreateCollectorOptions } from './app';
export { collectorEnv, loadCollectorConfig, type CollectorConfig, type CollectorRole } from './config';
export {
  parseScrapeConfig,
  loadScrapeConfigFile,
  ConfigFileError,
  type ConfigIssue,
} from './config/scrape-config.loader';
export type { ScrapeSettings, ScrapeJob } from './config/scrape-config.schema';
export { CollectorError, type CollectorErrorCode } from './errors';
export { decodeWriteRequest, encodeWriteRequest } from './remote-write/remote-write.decoder';
export { WRITER_DURABLE } from './writer/writer.consumer';
