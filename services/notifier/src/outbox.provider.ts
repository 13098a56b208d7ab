import type { Provider } from '@nestjs/common';
import type { Pool } from 'pg';
import { EventBus } from '@arcwatch/messaging';
import { OutboxRelay } from '@arcwatch/outbox';
import { PG_POOL } from '@arcwatch/runtime';
import { NOTIFIER_CONFIG, type NotifierConfig } from './config';
import { NotifierMetrics } from './metrics';

/** The relay of the notifier's outbox (notify events and acknowledgements). */
export const notifierOutboxRelayProvider: Provider = {
  provide: OutboxRelay,
  inject: [PG_POOL, NOTIFIER_CONFIG, EventBus, NotifierMetrics],
  useFactory: (pool: Pool, config: NotifierConfig, bus: EventBus, metrics: NotifierMetrics) =>
    new OutboxRelay({ pool, schema: config.dbSchema, bus, onPublished: (n) => metrics.outboxPublished.inc(n) }),
};
