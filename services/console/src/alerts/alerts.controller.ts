import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { AccessGuard, CurrentPrincipal, Roles, type Principal } from '@arcwatch/access';
import { ConsoleError } from '../errors';
import { requireUnscoped } from '../http/scope';
import { newSilenceSchema } from './alerts';
import { AlertsService } from './alerts.service';

const ackSchema = z.object({ comment: z.string().max(1000).default('') });

@Controller('api/console')
@UseGuards(AccessGuard)
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get('alerts')
  list(@CurrentPrincipal() p: Principal) {
    return this.alerts.list(p);
  }

  /** The notification log (history), newest first. Unscoped tokens: an entry can span tenants. */
  @Get('alerts/history')
  history(@CurrentPrincipal() p: Principal) {
    requireUnscoped(p, 'the notification log');
    return this.alerts.history();
  }

  @Post('alerts/:fingerprint/acknowledge')
  @Roles('operator')
  @HttpCode(200)
  acknowledge(@CurrentPrincipal() p: Principal, @Param('fingerprint') fingerprint: string, @Body() body: unknown) {
    const b = ackSchema.safeParse(body ?? {});
    if (!b.success) throw new ConsoleError('VALIDATION_FAILED', 'comment: at most 1000 characters');
    return this.alerts.acknowledge(p, fingerprint, b.data.comment);
  }

  /** { matchers: [{name, value, isRegex?, isEqual?}], durationMinutes?, comment } */
  @Post('silences')
  @Roles('operator')
  @HttpCode(200)
  silence(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    const b = newSilenceSchema.safeParse(body ?? {});
    if (!b.success)
      throw new ConsoleError(
        'VALIDATION_FAILED',
        b.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    return this.alerts.silence(p, b.data.matchers, b.data.durationMinutes, b.data.comment);
  }
}
