import { Body, Controller, Get, Put } from '@nestjs/common';
import { CurrentPrincipal, requireUnscoped, Roles, type Principal } from '@arcwatch/access';
import { BillingError } from '../errors';
import { PricesService } from './prices.service';

@Controller('api/v1/prices')
export class PricesController {
  constructor(private readonly prices: PricesService) {}

  @Get()
  list(@CurrentPrincipal() p: Principal) {
    requireUnscoped(p, 'the price catalog');
    const { source, entries } = this.prices.describe();
    return {
      source,
      items: entries.map(({ microPerGpuHour, fromMs: _f, toMs: _t, ...e }) => ({
        ...e,
        /** micro-units per GPU-hour as an exact fraction. */
        microPerGpuHour: { num: microPerGpuHour.num.toString(), den: microPerGpuHour.den.toString() },
      })),
    };
  }

  /** Replaces the catalog with a YAML document (content-type text/yaml or application/yaml). */
  @Put()
  @Roles('admin')
  async load(@Body() body: unknown, @CurrentPrincipal() p: Principal) {
    requireUnscoped(p, 'the price catalog');
    if (typeof body !== 'string')
      throw new BillingError('PRICES_INVALID', 'send the catalog as YAML text (content-type text/yaml)');
    return { entries: await this.prices.load(body) };
  }
}
