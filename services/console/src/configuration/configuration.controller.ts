import { Body, Controller, Get, Put, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { AccessGuard, CurrentPrincipal, Roles, type Principal } from '@arcwatch/access';
import { CONFIG_FILE_SERVICES } from '@arcwatch/contracts';
import { ConsoleError } from '../errors';
import { requireUnscoped } from '../http/scope';
import { ConfigurationService } from './configuration.service';

const applySchema = z.object({
  service: z.enum(CONFIG_FILE_SERVICES),
  file: z.string().min(1),
  text: z.string().max(1 << 20),
});

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

  /** The rule, routing, escalation and price files, asked of the services that own them. */
  @Get('configuration/files')
  files(@CurrentPrincipal() p: Principal) {
    requireUnscoped(p, 'the configuration');
    return this.configuration.files();
  }

  /**
   * `{service, file, text}`: the owning service checks the text as it checks the file at start,
   * writes and reloads it. Problems answer 422 CONFIG_REJECTED with `details.errors` (file, line,
   * column, field, message) and nothing changes.
   */
  @Put('configuration/files')
  @Roles('admin')
  async apply(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    requireUnscoped(p, 'the configuration');
    const b = applySchema.safeParse(body ?? {});
    if (!b.success)
      throw new ConsoleError(
        'VALIDATION_FAILED',
        b.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    return this.configuration.apply(b.data.service, b.data.file, b.data.text, p.name);
  }

  /** Which services answer (no tenant data: every token). */
  @Get('services')
  services() {
    return this.configuration.services();
  }
}
