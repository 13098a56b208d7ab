import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { AccessGuard, CurrentPrincipal, effectiveTenant, type Principal } from '@arcwatch/access';
import { InjectClock, type Clock } from '@arcwatch/runtime';
import { parseWindow } from '../http/window';
import { InstancesService } from './instances.service';

@Controller('api/console/instances')
@UseGuards(AccessGuard)
export class InstancesController {
  constructor(
    private readonly instances: InstancesService,
    @InjectClock() private readonly clock: Clock,
  ) {}

  /** ?from=&to=&tenant=&model= */
  @Get()
  list(@CurrentPrincipal() p: Principal, @Query() q: Record<string, string>) {
    const { fromMs, toMs } = parseWindow(q, this.clock.now());
    return this.instances.instances(fromMs, toMs, effectiveTenant(p, q.tenant), q.model || undefined);
  }
}
