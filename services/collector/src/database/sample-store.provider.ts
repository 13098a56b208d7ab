import type { Provider } from '@nestjs/common';
import { PG_POOL } from '@arcwatch/runtime';
import { SampleStore } from '@arcwatch/storage';
import type { Pool } from 'pg';

/** The sample store over the collector's schema, where the process stores (roles all and writer). */
export const SAMPLE_STORE = Symbol('SAMPLE_STORE');

/**
 * Head rows folded per compaction transaction. Each transaction rewrites every chunk it adds to,
 * so a pass should be one transaction: a minute of a 1,000-GPU fleet scraped every second is
 * 7,500 head rows (125 targets × 60), which the store's default of 5,000 splits in two. A
 * transaction of 10,000 rows holds about 2 M samples in memory.
 */
const COMPACT_ROWS_PER_TX = 10_000;

export function sampleStoreProvider(schema: string, maxSeries?: number): Provider {
  return {
    provide: SAMPLE_STORE,
    useFactory: (pool: Pool) =>
      new SampleStore(pool, {
        schema,
        compactRowsPerTx: COMPACT_ROWS_PER_TX,
        ...(maxSeries !== undefined ? { maxSeries } : {}),
      }),
    inject: [PG_POOL],
  };
}
