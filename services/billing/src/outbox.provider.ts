import type { Provider } from '@nestjs/common';
import type { Pool } from 'pg';
import { EventBus } from '@arcwatch/messaging';
import { OutboxRelay } from '@arcwatch/outbox';
import { PG_POOL } from '@arcwatch/runtime';
import { BILLING_CONFIG, type BillingConfig } from './config';
import { BillingMetrics } from './metrics';

/** The relay of billing's outbox (cost.allocated, cost.reconciled). */
export const billingOutboxRelayProvider: Provider = {
  provide: OutboxRelay,
  inject: [PG_POOL, BILLING_CONFIG, EventBus, BillingMetrics],
  useFactory: (pool: Pool, config: BillingConfig, bus: EventBus, metrics: BillingMetrics) =>
    new OutboxRelay({ pool, schema: config.dbSchema, bus, onPublished: (n) => metrics.inc('outbox_published', n) }),
};
