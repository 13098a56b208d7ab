import type { Provider } from '@nestjs/common';
import { PG_POOL } from '@arcwatch/runtime';
import { SampleStore } from '@arcwatch/storage';
import type { Pool } from 'pg';

/** The sample store over the collector's schema, where the process stores (roles all and writer). */
export const SAMPLE_STORE = Symbol('SAMPLE_STORE');

export function sampleStoreProvider(schema: string, maxSeries?: number): Provider {
  return {
    provide: SAMPLE_STORE,
    useFactory: (pool: Pool) => new SampleStore(pool, { schema, ...(maxSeries !== undefined ? { maxSeries } : {}) }),
    inject: [PG_POOL],
  };
}
