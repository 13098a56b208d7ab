import type { Provider } from '@nestjs/common';
import type { Pool } from 'pg';
import { EventBus } from '@arcwatch/messaging';
import { OutboxRelay } from '@arcwatch/outbox';
import { LOGGER, PG_POOL, type Logger } from '@arcwatch/runtime';
import { TRACING_CONFIG, type TracingConfig } from './config';
import { TracingMetrics } from './metrics';

/** The relay of tracing's outbox (request.completed and statistics batches). */
export const tracingOutboxRelayProvider: Provider = {
  provide: OutboxRelay,
  inject: [PG_POOL, TRACING_CONFIG, EventBus, TracingMetrics, LOGGER],
  useFactory: (pool: Pool, config: TracingConfig, bus: EventBus, metrics: TracingMetrics, logger: Logger) =>
    new OutboxRelay({
      pool,
      schema: config.dbSchema,
      bus,
      onPublished: (n) => metrics.inc('outbox_published', n),
      onCommittedFailed: (err, n) =>
        logger.warn(
          { err: err instanceof Error ? err.message : String(err), events: n },
          'publishing or clearing committed outbox events failed; the relay publishes what is left on its next pass',
        ),
    }),
};
