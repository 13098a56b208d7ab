import type { Provider } from '@nestjs/common';
import type { Pool } from 'pg';
import { EventBus } from '@arcwatch/messaging';
import { OutboxRelay } from '@arcwatch/outbox';
import { PG_POOL } from '@arcwatch/runtime';
import { ANOMALY_CONFIG, type AnomalyConfig } from './config';
import { AnomalyMetrics } from './metrics';

/** The relay of anomaly's outbox (alert events and rule-output batches). */
export const anomalyOutboxRelayProvider: Provider = {
  provide: OutboxRelay,
  inject: [PG_POOL, ANOMALY_CONFIG, EventBus, AnomalyMetrics],
  useFactory: (pool: Pool, config: AnomalyConfig, bus: EventBus, metrics: AnomalyMetrics) =>
    new OutboxRelay({ pool, schema: config.dbSchema, bus, onPublished: (n) => metrics.inc('outbox_published', n) }),
};
