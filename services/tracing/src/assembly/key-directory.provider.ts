import type { Provider } from '@nestjs/common';
import { TRACING_CONFIG, type TracingConfig } from '../config';
import { loadApiKeysFile } from '@arcwatch/request-assembly';
import { EMPTY_DIRECTORY, directoryFromEntries, type KeyDirectory } from '@arcwatch/request-assembly';

export const KEY_DIRECTORY = Symbol('KEY_DIRECTORY');

/** The mapping in force; an applied API-key file replaces `current` (key-files.responder.ts). */
export class KeyDirectoryHolder {
  constructor(public current: KeyDirectory) {}
}

/** The API-key mapping, read and validated at boot (a bad file stops the start). */
export const keyDirectoryHolderProvider: Provider = {
  provide: KeyDirectoryHolder,
  inject: [TRACING_CONFIG],
  useFactory: (config: TracingConfig): KeyDirectoryHolder =>
    new KeyDirectoryHolder(
      config.apiKeysFile ? directoryFromEntries(loadApiKeysFile(config.apiKeysFile)) : EMPTY_DIRECTORY,
    ),
};

/** What ingest and assembly look keys up in: always the mapping in force now. */
export const keyDirectoryProvider: Provider = {
  provide: KEY_DIRECTORY,
  inject: [KeyDirectoryHolder],
  useFactory:
    (holder: KeyDirectoryHolder): KeyDirectory =>
    (hash) =>
      holder.current(hash),
};
