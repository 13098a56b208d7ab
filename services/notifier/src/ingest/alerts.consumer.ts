import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EventBus, PoisonMessageError, RetryableError, type ConsumerHandle } from '@arcwatch/messaging';
import { ALERT_V1, alertV1Schema, parseCloudEvent } from '@arcwatch/contracts';
import { AlertsService } from '../alerts/alerts.service';

export const ALERTS_DURABLE = 'notifier-alerts';

/**
 * Alert events (io.arcwatch.alert.v1 on aw.alerts.v1.>) into the alert store, acked after the
 * row is committed; acknowledgements on the same stream are ArcWatch's own and skipped here.
 */
@Injectable()
export class AlertsConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AlertsConsumer.name);
  private handle: ConsumerHandle | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly alerts: AlertsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.handle = await this.bus.consume({
      stream: 'alerts',
      durable: ALERTS_DURABLE,
      filterSubject: 'aw.alerts.v1.>',
      handler: async (msg) => {
        if (msg.subject.startsWith('aw.alerts.v1.acknowledged.')) return;
        const parsed = parseCloudEvent(msg.data, ALERT_V1, alertV1Schema);
        if (!parsed.ok) throw new PoisonMessageError(`${msg.subject}#${msg.seq}: ${parsed.reason}`);
        try {
          await this.alerts.fromEvents([parsed.event.data]);
        } catch (err) {
          throw new RetryableError(
            `storing alert ${parsed.event.data.fingerprint}: ${(err as Error).message}`,
            undefined,
            { cause: err },
          );
        }
      },
    });
    this.logger.log(`consuming aw.alerts.v1.> as ${ALERTS_DURABLE}`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.handle?.stop();
  }
}
