import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { AccessGuard, CurrentPrincipal, effectiveTenant, type Principal } from '@arcwatch/access';
import { InjectClock, type Clock } from '@arcwatch/runtime';
import { ConsoleError } from '../errors';
import { requireUnscoped } from '../http/scope';
import { parseWindow } from '../http/window';
import { CostsService } from './costs.service';

@Controller('api/console/costs')
@UseGuards(AccessGuard)
export class CostsController {
  constructor(
    private readonly costs: CostsService,
    @InjectClock() private readonly clock: Clock,
  ) {}

  /** ?from=&to=&by=team,project&tenant= */
  @Get()
  cost(@CurrentPrincipal() p: Principal, @Query() q: Record<string, string>) {
    const { fromMs, toMs } = parseWindow(q, this.clock.now());
    return this.costs.cost(fromMs, toMs, q.by || 'tenant', effectiveTenant(p, q.tenant));
  }

  /** ?from=&to=&tenant= (a scoped token's own tenant when omitted) */
  @Get('explain')
  explain(@CurrentPrincipal() p: Principal, @Query() q: Record<string, string>) {
    const { fromMs, toMs } = parseWindow(q, this.clock.now());
    const tenant = effectiveTenant(p, q.tenant);
    if (tenant === undefined)
      throw new ConsoleError('VALIDATION_FAILED', 'tenant: required to explain a cost', {
        details: { field: 'tenant' },
      });
    return this.costs.explain(fromMs, toMs, tenant);
  }

  /** Idle share per pool and cost per 1M tokens across every tenant. */
  @Get('fleet')
  fleet(@CurrentPrincipal() p: Principal, @Query() q: Record<string, string>) {
    requireUnscoped(p, 'the fleet-wide cost view');
    const { fromMs, toMs } = parseWindow(q, this.clock.now());
    return this.costs.fleetWide(fromMs, toMs);
  }
}
