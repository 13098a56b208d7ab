import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { AlertsService } from '../alerts/alerts.service';
import { NotificationLogRepository, type DeliveryStatus } from '../delivery/notification-log.repository';
import { DispatchService } from '../dispatch/dispatch.service';
import { NotifierError } from '../errors';
import { EscalationService } from '../escalation/escalation.service';

const ackSchema = z.object({ by: z.string().min(1), comment: z.string().default('') });
const groupAckSchema = ackSchema.extend({ groupKey: z.string().min(1) });

/**
 * What Alertmanager lacks: acknowledgement (of an alert or a whole group), escalation state, the
 * notification log of an alert and failed deliveries; plus the Alertmanager webhook body as input.
 */
@Controller('api/v1')
export class NotifierApiController {
  constructor(
    private readonly alerts: AlertsService,
    private readonly escalations: EscalationService,
    private readonly log: NotificationLogRepository,
    private readonly dispatch: DispatchService,
  ) {}

  @Post('alerts/:fingerprint/acknowledge')
  @HttpCode(200)
  async acknowledge(
    @Param('fingerprint') fingerprint: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const p = ackSchema.safeParse(body ?? {});
    if (!p.success) throw new NotifierError('ACK_INVALID', 'body needs "by" (who acknowledges) and may have "comment"');
    const state = await this.escalations.acknowledge(fingerprint, p.data.by, p.data.comment);
    return { fingerprint, acknowledged: true, escalation: state ?? null };
  }

  @Post('groups/acknowledge')
  @HttpCode(200)
  async acknowledgeGroup(@Body() body: unknown): Promise<Record<string, unknown>> {
    const p = groupAckSchema.safeParse(body ?? {});
    if (!p.success) throw new NotifierError('ACK_INVALID', 'body needs "groupKey" and "by"');
    const group = (await this.dispatch.groupsView()).find((g) => g.key === p.data.groupKey);
    if (!group) throw new NotifierError('GROUP_NOT_FOUND', `no group ${p.data.groupKey}`);
    const done: string[] = [];
    for (const a of group.alerts) {
      if (a.endsAt !== null && a.endsAt.getTime() <= Date.now()) continue;
      await this.escalations.acknowledge(a.fingerprint, p.data.by, p.data.comment);
      done.push(a.fingerprint);
    }
    return { groupKey: p.data.groupKey, acknowledged: done };
  }

  @Get('alerts/:fingerprint/escalation')
  async escalation(@Param('fingerprint') fingerprint: string): Promise<Record<string, unknown>> {
    const alert = await this.alerts.get(fingerprint);
    if (!alert) throw new NotifierError('ALERT_NOT_FOUND', `no alert with fingerprint ${fingerprint}`);
    return {
      fingerprint,
      acknowledgedAt: alert.ackedAt?.toISOString() ?? null,
      acknowledgedBy: alert.ackedBy,
      escalation: (await this.escalations.state(fingerprint)) ?? null,
    };
  }

  @Get('alerts/:fingerprint/notifications')
  async notifications(@Param('fingerprint') fingerprint: string): Promise<Record<string, unknown>[]> {
    return (await this.log.forFingerprint(fingerprint)).map(({ payload: _payload, ...rest }) => rest);
  }

  @Get('notifications')
  async list(@Query('status') status?: string, @Query('limit') limit?: string): Promise<Record<string, unknown>[]> {
    const s =
      status === 'pending' || status === 'delivered' || status === 'failed' ? (status as DeliveryStatus) : undefined;
    return (await this.log.list(s, Math.min(1000, Number(limit ?? 100) || 100))).map(
      ({ payload: _payload, ...rest }) => rest,
    );
  }

  /** An existing Alertmanager's webhook_configs url may point here to hand over its alerts for escalation. */
  @Post('alertmanager-webhook')
  @HttpCode(200)
  async webhook(@Body() body: unknown): Promise<{ alerts: number }> {
    return { alerts: await this.alerts.webhook(body) };
  }
}
