import { Controller, Get, Header, Inject } from '@nestjs/common';
import type { Pool } from 'pg';
import { EventBus } from '@arcwatch/messaging';
import { PG_POOL } from '../database/database.providers';
import { TracingMetrics } from './tracing.metrics';

@Controller()
export class HealthController {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(EventBus) private readonly bus: EventBus,
    private readonly metrics: TracingMetrics,
  ) {}

  @Get('health')
  async health() {
    const postgres = await this.pool.query('SELECT 1').then(
      () => 'ok',
      (err: Error) => err.message,
    );
    const nats = this.bus.nc.isClosed() ? 'closed' : 'ok';
    return { status: postgres === 'ok' && nats === 'ok' ? 'ok' : 'degraded', postgres, nats };
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  render(): string {
    return this.metrics.render();
  }
}
