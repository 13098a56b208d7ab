import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from '@nats-io/nats-core';
import type { ConfigFileV1 } from '@arcwatch/contracts';
import { readConfigText, writeFileAtomic } from '@arcwatch/config-files';
import { parsePriceCatalog } from '@arcwatch/cost';
import { EventBus, serveConfigFiles } from '@arcwatch/messaging';
import { InjectLogger, type Logger } from '@arcwatch/runtime';
import { BILLING_CONFIG, type BillingConfig } from '../config';
import { PricesService } from './prices.service';

/**
 * The console's editor for the price catalog (BILLING_PRICES_FILE): checked as the start checks
 * it, written over the file, and installed as the catalog in force (kept in PostgreSQL like a
 * catalog loaded through the API, so a restart keeps it). Allocated windows keep their prices.
 */
@Injectable()
export class PriceFilesResponder implements OnApplicationBootstrap, OnModuleDestroy {
  private subs: Subscription[] = [];

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(BILLING_CONFIG) private readonly config: BillingConfig,
    private readonly prices: PricesService,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.subs = serveConfigFiles(this.bus, 'billing', this, this.logger);
  }

  onModuleDestroy(): void {
    for (const s of this.subs) s.unsubscribe();
  }

  files(): ConfigFileV1[] {
    const file = this.config.pricesFile;
    return [{ kind: 'prices', file, text: readConfigText(file) }];
  }

  async apply(file: string, text: string): Promise<string> {
    parsePriceCatalog(text, file);
    writeFileAtomic(file, text);
    const n = await this.prices.load(text, file);
    return `${n} price${n === 1 ? '' : 's'}`;
  }
}
