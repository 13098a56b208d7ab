import type { Provider } from '@nestjs/common';
import { TRACING_CONFIG, type TracingConfig } from '../config';
import { loadApiKeysFile } from '@arcwatch/request-assembly';
import { EMPTY_DIRECTORY, directoryFromEntries, type KeyDirectory } from '@arcwatch/request-assembly';

export const KEY_DIRECTORY = Symbol('KEY_DIRECTORY');

/** The API-key mapping, read and validated once at boot (a bad file stops the start). */
export const keyDirectoryProvider: Provider = {
  provide: KEY_DIRECTORY,
  inject: [TRACING_CONFIG],
  useFactory: (config: TracingConfig): KeyDirectory =>
    config.apiKeysFile ? directoryFromEntries(loadApiKeysFile(config.apiKeysFile)) : EMPTY_DIRECTORY,
};
