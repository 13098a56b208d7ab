import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { assertCanSee, CurrentPrincipal, requireUnscoped, Roles, type Principal } from '@arcwatch/access';
import { AlertsService } from '../alerts/alerts.service';
import { NotificationLogRepository, type DeliveryStatus } from '../delivery/notification-log.repository';
import { DispatchService } from '../dispatch/dispatch.service';
import { NotifierError } from '../errors';
import { EscalationService } from '../escalation/escalation.service';
import { alertVisible } from './tenant-scope';

const ackSchema = z.object({ by: z.string().min(1), comment: z.string().default('') });
const groupAckSchema = ackSchema.extend({ groupKey: z.string().min(1) });

/**
 * What Alertmanager lacks: acknowledgement (of an alert or a whole group), escalation state, the
 * notification log of an alert and failed deliveries; plus the Alertmanager webhook body as input.
 * Acknowledging needs an operator token; a scoped token reaches its tenant's alerts only (another
 * tenant's alert answers 404).
 */
@Controller('api/v1')
export class NotifierApiController {
  constructor(
    private readonly alerts: AlertsService,
    private readonly escalations: EscalationService,
    private readonly log: NotificationLogRepository,
    private readonly dispatch: DispatchService,
  ) {}

  /** The alert, if the principal may see it (a scoped token: its tenant's alerts only). */
  private async visibleAlert(fingerprint: string, p: Principal) {
    const alert = await this.alerts.get(fingerprint);
    if (alert) assertCanSee(p, alert.labels.tenant, `alert ${fingerprint}`);
    else if (p.tenant !== null) throw new NotifierError('ALERT_NOT_FOUND', `no alert with fingerprint ${fingerprint}`);
    return alert;
  }

  @Post('alerts/:fingerprint/acknowledge')
  @HttpCode(200)
  @Roles('operator')
  async acknowledge(
    @Param('fingerprint') fingerprint: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
  ): Promise<Record<string, unknown>> {
    await this.visibleAlert(fingerprint, principal);
    const p = ackSchema.safeParse(body ?? {});
    if (!p.success) throw new NotifierError('ACK_INVALID', 'body needs "by" (who acknowledges) and may have "comment"');
    const state = await this.escalations.acknowledge(fingerprint, p.data.by, p.data.comment);
    return { fingerprint, acknowledged: true, escalation: state ?? null };
  }

  /** A scoped token acknowledges its tenant's alerts of the group; a group without any is missing to it. */
  @Post('groups/acknowledge')
  @HttpCode(200)
  @Roles('operator')
  async acknowledgeGroup(
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
  ): Promise<Record<string, unknown>> {
    const p = groupAckSchema.safeParse(body ?? {});
    if (!p.success) throw new NotifierError('ACK_INVALID', 'body needs "groupKey" and "by"');
    const group = (await this.dispatch.groupsView()).find((g) => g.key === p.data.groupKey);
    const mine = group?.alerts.filter((a) => alertVisible(principal, a.labels)) ?? [];
    if (!group || mine.length === 0) throw new NotifierError('GROUP_NOT_FOUND', `no group ${p.data.groupKey}`);
    const done: string[] = [];
    for (const a of mine) {
      if (a.endsAt !== null && a.endsAt.getTime() <= Date.now()) continue;
      await this.escalations.acknowledge(a.fingerprint, p.data.by, p.data.comment);
      done.push(a.fingerprint);
    }
    return { groupKey: p.data.groupKey, acknowledged: done };
  }

  @Get('alerts/:fingerprint/escalation')
  async escalation(
    @Param('fingerprint') fingerprint: string,
    @CurrentPrincipal() p: Principal,
  ): Promise<Record<string, unknown>> {
    const alert = await this.visibleAlert(fingerprint, p);
    if (!alert) throw new NotifierError('ALERT_NOT_FOUND', `no alert with fingerprint ${fingerprint}`);
    return {
      fingerprint,
      acknowledgedAt: alert.ackedAt?.toISOString() ?? null,
      acknowledgedBy: alert.ackedBy,
      escalation: (await this.escalations.state(fingerprint)) ?? null,
    };
  }

  @Get('alerts/:fingerprint/notifications')
  async notifications(
    @Param('fingerprint') fingerprint: string,
    @CurrentPrincipal() p: Principal,
  ): Promise<Record<string, unknown>[]> {
    await this.visibleAlert(fingerprint, p);
    return (await this.log.forFingerprint(fingerprint)).map(({ payload: _payload, ...rest }) => rest);
  }

  @Get('notifications')
  async list(
    @CurrentPrincipal() p: Principal,
    @Query('status') status?: string,
    @Query('limit') limit?: string,
  ): Promise<Record<string, unknown>[]> {
    const s =
      status === 'pending' || status === 'delivered' || status === 'failed' ? (status as DeliveryStatus) : undefined;
    const rows = await this.log.list(s, Math.min(1000, Number(limit ?? 100) || 100));
    // A scoped token: the notifications every alert of which is its tenant's.
    const own =
      p.tenant === null
        ? undefined
        : new Set((await this.alerts.all()).filter((a) => alertVisible(p, a.labels)).map((a) => a.fingerprint));
    return rows
      .filter((r) => own === undefined || (r.fingerprints.length > 0 && r.fingerprints.every((f) => own.has(f))))
      .map(({ payload: _payload, ...rest }) => rest);
  }

  /** An existing Alertmanager's webhook_configs url may point here to hand over its alerts for escalation. */
  @Post('alertmanager-webhook')
  @HttpCode(200)
  @Roles('operator')
  async webhook(@Body() body: unknown, @CurrentPrincipal() p: Principal): Promise<{ alerts: number }> {
    requireUnscoped(p, 'posting alerts');
    return { alerts: await this.alerts.webhook(body) };
  }
}
