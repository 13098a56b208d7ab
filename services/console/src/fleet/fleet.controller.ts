import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { AccessGuard } from '@arcwatch/access';
import { InjectClock, type Clock } from '@arcwatch/runtime';
import { parseTime, parseWindow } from '../http/window';
import { FleetService } from './fleet.service';

/** GPU infrastructure: visible to every token (it carries no tenant's data). */
@Controller('api/console')
@UseGuards(AccessGuard)
export class FleetController {
  constructor(
    private readonly fleet: FleetService,
    @InjectClock() private readonly clock: Clock,
  ) {}

  /** ?at= (default now) */
  @Get('fleet')
  summary(@Query('at') at?: string) {
    return this.fleet.fleet(at ? parseTime(at, 'at') : undefined);
  }

  /** ?from=&to= */
  @Get('nodes/:node')
  node(@Param('node') node: string, @Query() q: Record<string, string>) {
    const { fromMs, toMs } = parseWindow(q, this.clock.now());
    return this.fleet.node(node, fromMs, toMs);
  }
}
