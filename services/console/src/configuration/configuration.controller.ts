import { Controller, Get, UseGuards } from '@nestjs/common';
import { AccessGuard, CurrentPrincipal, type Principal } from '@arcwatch/access';
import { requireUnscoped } from '../http/scope';
import { ConfigurationService } from './configuration.service';

@Controller('api/console')
@UseGuards(AccessGuard)
export class ConfigurationController {
  constructor(private readonly configuration: ConfigurationService) {}

  /** Prices, rules, routing and scrape status; API tokens for admins. Every tenant's: unscoped tokens only. */
  @Get('configuration')
  read(@CurrentPrincipal() p: Principal) {
    requireUnscoped(p, 'the configuration');
    return this.configuration.configuration(p.role === 'admin');
  }

  /** Which services answer (no tenant data: every token). */
  @Get('services')
  services() {
    return this.configuration.services();
  }
}
