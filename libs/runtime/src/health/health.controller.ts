import { Controller, Get, Inject } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  type HealthCheckResult,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import { Public } from '../http/routes';
import { READINESS_CHECKS } from '../tokens';

/**
 * /healthz: the process is alive (no dependency is asked). /readyz: the process can do its work
 * now — 200 when every readiness check passes, 503 with the failing ones otherwise. Both are
 * public: probes carry no token. /metrics (MetricsController) is not.
 */
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    @Inject(READINESS_CHECKS) private readonly checks: HealthIndicatorFunction[],
  ) {}

  @Get('healthz')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check(this.checks);
  }
}
