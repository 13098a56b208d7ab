import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from '@nats-io/nats-core';
import type { ConfigFileV1 } from '@arcwatch/contracts';
import { readConfigText, writeFileAtomic } from '@arcwatch/config-files';
import { EventBus, serveConfigFiles } from '@arcwatch/messaging';
import { parseApiKeysYaml } from '@arcwatch/request-assembly';
import { InjectLogger, type Logger } from '@arcwatch/runtime';
import { TRACING_CONFIG, type TracingConfig } from '../config';
import { KeyDirectoryHolder } from './key-directory.provider';

/**
 * The console's editor for the API-key mapping (TRACING_API_KEYS_FILE: salted key hashes →
 * tenant, team, project): checked as at start (hash format, duplicates), written over the file,
 * and in force for the requests assembled from then on. Requests already assembled keep their
 * tenant.
 */
@Injectable()
export class KeyFilesResponder implements OnApplicationBootstrap, OnModuleDestroy {
  private subs: Subscription[] = [];

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(TRACING_CONFIG) private readonly config: TracingConfig,
    private readonly holder: KeyDirectoryHolder,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.subs = serveConfigFiles(this.bus, 'tracing', this, this.logger);
  }

  onModuleDestroy(): void {
    for (const s of this.subs) s.unsubscribe();
  }

  files(): ConfigFileV1[] {
    const file = this.config.apiKeysFile;
    return file ? [{ kind: 'api-keys', file, text: readConfigText(file) }] : [];
  }

  async apply(file: string, text: string): Promise<string> {
    const entries = parseApiKeysYaml(text, file);
    writeFileAtomic(file, text);
    this.holder.replace(entries);
    return `${entries.length} API key${entries.length === 1 ? '' : 's'}`;
  }
}
