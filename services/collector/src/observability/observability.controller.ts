import { Controller, Get, Header, Inject, Optional, Res } from '@nestjs/common';
import type { EventBus } from '@arcwatch/messaging';
import type { FastifyReply } from 'fastify';
import type { Pool } from 'pg';
import { DB_POOL, EVENT_BUS } from '../core/tokens';
import { CollectorMetrics } from './collector.metrics';

/** The collector's own /metrics, liveness (/healthz) and readiness (/readyz: NATS and Postgres answer). */
@Controller()
export class ObservabilityController {
  constructor(
    private readonly metrics: CollectorMetrics,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Optional() @Inject(DB_POOL) private readonly pool: Pool | undefined,
  ) {}

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  renderMetrics(): string {
    return this.metrics.registry.render();
  }

  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(@Res({ passthrough: true }) reply: FastifyReply) {
    const checks: Record<string, string> = {};
    checks.nats = this.bus.nc.isClosed() ? 'closed' : 'ok';
    if (this.pool) {
      checks.postgres = await this.pool.query('SELECT 1').then(
        () => 'ok',
        (err: Error) => err.message,
      );
    }
    const ready = Object.values(checks).every((v) => v === 'ok');
    void reply.status(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not ready', checks };
  }
}
