import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Pool } from 'pg';
import { ConfigFileError, readConfigText } from '@arcwatch/config-files';
import { parsePriceCatalog, type PriceCatalog } from '@arcwatch/cost';
import { CLOCK, PG_POOL, type Clock } from '@arcwatch/runtime';
import { BILLING_CONFIG, type BillingConfig } from '../config';
import { BillingError } from '../errors';

/**
 * The price catalog in force. It starts from the last catalog loaded through the API (kept in
 * billing.price_catalog, so a restart keeps it), else from BILLING_PRICES_FILE. A new catalog
 * applies to windows allocated from then on; allocated windows keep their prices.
 */
@Injectable()
export class PricesService implements OnApplicationBootstrap {
  private catalog: PriceCatalog | undefined;
  private source = '';

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(BILLING_CONFIG) private readonly config: BillingConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { rows } = await this.pool.query<{ source: string; yaml: string }>(
      `SELECT source, yaml FROM ${this.config.dbSchema}.price_catalog WHERE id = 1`,
    );
    if (rows[0]) {
      this.catalog = parsePriceCatalog(rows[0].yaml, rows[0].source);
      this.source = rows[0].source;
    } else {
      this.catalog = parsePriceCatalog(readConfigText(this.config.pricesFile), this.config.pricesFile);
      this.source = this.config.pricesFile;
    }
  }

  current(): PriceCatalog {
    if (!this.catalog) throw new BillingError('PRICE_MISSING', 'the price catalog is not loaded yet');
    return this.catalog;
  }

  describe(): { source: string; entries: PriceCatalog['entries'] } {
    return { source: this.source, entries: this.current().entries };
  }

  /** Validates and installs a catalog (YAML text); a bad one changes nothing and says where it is wrong. */
  async load(yaml: string, source = 'api'): Promise<number> {
    let next: PriceCatalog;
    try {
      next = parsePriceCatalog(yaml, source);
    } catch (err) {
      if (err instanceof ConfigFileError) throw new BillingError('PRICES_INVALID', err.message);
      throw err;
    }
    await this.pool.query(
      `INSERT INTO ${this.config.dbSchema}.price_catalog (id, source, yaml, loaded_at) VALUES (1, $1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET source = EXCLUDED.source, yaml = EXCLUDED.yaml, loaded_at = EXCLUDED.loaded_at`,
      [source, yaml, new Date(this.clock.now())],
    );
    this.catalog = next;
    this.source = source;
    return next.entries.length;
  }
}
