import type { HealthIndicatorService, HealthIndicatorResult } from '@nestjs/terminus';
import type { Pool } from 'pg';
import type { EventBus } from '@arcwatch/messaging';

const PG_TIMEOUT_MS = 2_000;

/** PostgreSQL answers a query within two seconds. */
export async function postgresReady(indicators: HealthIndicatorService, pool: Pool): Promise<HealthIndicatorResult> {
  const check = indicators.check('postgres');
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      pool.query('SELECT 1'),
      new Promise(
        (_, reject) =>
          (timer = setTimeout(() => reject(new Error(`no answer within ${PG_TIMEOUT_MS} ms`)), PG_TIMEOUT_MS)),
      ),
    ]);
    return check.up();
  } catch (err) {
    return check.down({ message: (err as Error).message });
  } finally {
    clearTimeout(timer);
  }
}

/** NATS is connected at this moment: a client that is reconnecting is not ready. */
export function natsReady(indicators: HealthIndicatorService, bus: EventBus): HealthIndicatorResult {
  const check = indicators.check('nats');
  return bus.isConnected() ? check.up() : check.down({ message: 'not connected' });
}
