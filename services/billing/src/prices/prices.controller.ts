import { Body, Controller, Get, Put } from '@nestjs/common';
import { BillingError } from '../errors';
import { PricesService } from './prices.service';

@Controller('api/v1/prices')
export class PricesController {
  constructor(private readonly prices: PricesService) {}

  @Get()
  list() {
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
  async load(@Body() body: unknown) {
    if (typeof body !== 'string')
      throw new BillingError('PRICES_INVALID', 'send the catalog as YAML text (content-type text/yaml)');
    return { entries: await this.prices.load(body) };
  }
}
