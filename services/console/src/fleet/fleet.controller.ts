import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { AccessGuard } from '@arcwatch/access';
import { InjectClock, type Clock } from '@arcwatch/runtime';
import { CONSOLE_CONFIG, type ConsoleConfig } from '../config';
import { parseTime, parseWindow } from '../http/window';
import { FLEET_SNAPSHOT_STALE_MS } from './fleet';
import { FleetService } from './fleet.service';

/** GPU infrastructure: visible to every token (it carries no tenant's data). */
@Controller('api/console')
@UseGuards(AccessGuard)
export class FleetController {
  constructor(
    private readonly fleet: FleetService,
    @InjectClock() private readonly clock: Clock,
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
  ) {}

  /**
   * ?at= (default now: the latest snapshot; one older than an events interval is refreshed
   * behind the answer, and one older than FLEET_SNAPSHOT_STALE_MS is not answered)
   */
  @Get('fleet')
  summary(@Query('at') at?: string) {
    return at
      ? this.fleet.at(parseTime(at, 'at'))
      : this.fleet.current(this.config.eventsIntervalMs, FLEET_SNAPSHOT_STALE_MS);
  }

  /** ?from=&to= */
  @Get('nodes/:node')
  node(@Param('node') node: string, @Query() q: Record<string, string>) {
    const { fromMs, toMs } = parseWindow(q, this.clock.now());
    return this.fleet.node(node, fromMs, toMs);
  }
}
