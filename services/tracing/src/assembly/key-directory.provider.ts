import type { Provider } from '@nestjs/common';
import { TRACING_CONFIG, type TracingConfig } from '../config';
import { loadApiKeysFile, type ApiKeyEntry } from '@arcwatch/request-assembly';
import { directoryFromEntries, type KeyDirectory } from '@arcwatch/request-assembly';

export const KEY_DIRECTORY = Symbol('KEY_DIRECTORY');

/**
 * The mapping in force; an applied API-key file replaces it (key-files.responder.ts), and the
 * ingest threads, which hold a copy, are sent the new entries (ingest-threads.ts).
 */
export class KeyDirectoryHolder {
  current: KeyDirectory;
  private readonly listeners: Array<(entries: ApiKeyEntry[]) => void> = [];

  constructor(public entries: ApiKeyEntry[]) {
    this.current = directoryFromEntries(entries);
  }

  replace(entries: ApiKeyEntry[]): void {
    this.entries = entries;
    this.current = directoryFromEntries(entries);
    for (const listener of this.listeners) listener(entries);
  }

  onReplace(listener: (entries: ApiKeyEntry[]) => void): void {
    this.listeners.push(listener);
  }
}

/** The API-key mapping, read and validated at boot (a bad file stops the start). */
export const keyDirectoryHolderProvider: Provider = {
  provide: KeyDirectoryHolder,
  inject: [TRACING_CONFIG],
  useFactory: (config: TracingConfig): KeyDirectoryHolder =>
    new KeyDirectoryHolder(config.apiKeysFile ? loadApiKeysFile(config.apiKeysFile) : []),
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
