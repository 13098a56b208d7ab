import { AccessModule, accessOptions } from '@arcwatch/access';
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { RuntimeModule, type Clock, type Logger, natsAuth } from '@arcwatch/runtime';
import { AlertsRepository } from './alerts/alerts.repository';
import { AlertsService } from './alerts/alerts.service';
import { AlertmanagerApiController } from './api/alertmanager-api.controller';
import { NotifierApiController } from './api/notifier-api.controller';
import { NOTIFIER_CONFIG, type NotifierConfig } from './config';
import { AlertContextService } from './context/alert-context.service';
import { notifierMigrations } from './database/notifier.migrations';
import { DeliveryService } from './delivery/delivery.service';
import { NotificationLogRepository } from './delivery/notification-log.repository';
import { DispatchLeaseRepository } from './dispatch/dispatch-lease.repository';
import { DispatchService } from './dispatch/dispatch.service';
import { EscalationProcessor } from './escalation/escalation.processor';
import { EscalationQueue } from './escalation/escalation.queue';
import { EscalationReconciler } from './escalation/escalation.reconciler';
import { EscalationRepository } from './escalation/escalation.repository';
import { EscalationService } from './escalation/escalation.service';
import { AlertsConsumer } from './ingest/alerts.consumer';
import { BudgetConsumer } from './ingest/budget.consumer';
import { NotifierMetrics } from './metrics';
import { notifierOutboxRelayProvider } from './outbox.provider';
import { routingConfigProvider } from './routing/routing-config';
import { RoutingFilesResponder } from './routing/routing-files.responder';
import { SilencesRepository } from './silences/silences.repository';
import { SilencesService } from './silences/silences.service';

export interface NotifierModuleOptions {
  config: NotifierConfig;
  logger: Logger;
  clock?: Clock;
}

/**
 * Roles: `api` serves the HTTP APIs and takes alerts in; `worker` runs the dispatcher, the
 * escalation worker (BullMQ processor) and the reconciler; `all` is both in one process.
 */
@Module({})
export class NotifierModule {
  static forRoot(opts: NotifierModuleOptions): DynamicModule {
    const { config } = opts;
    const worker = config.role !== 'api';
    const api = config.role !== 'worker';
    const providers: Provider[] = [
      { provide: NOTIFIER_CONFIG, useValue: config },
      routingConfigProvider,
      NotifierMetrics,
      notifierOutboxRelayProvider,
      AlertsRepository,
      AlertsService,
      SilencesRepository,
      SilencesService,
      NotificationLogRepository,
      DeliveryService,
      EscalationRepository,
      EscalationQueue,
      EscalationService,
      AlertContextService,
      DispatchService,
      DispatchLeaseRepository,
      RoutingFilesResponder,
    ];
    if (worker) providers.push(EscalationProcessor, EscalationReconciler);
    // Billing's budget events become alerts too (BudgetExceeded), taken in where alerts are.
    if (api && config.consumeAlerts !== false) providers.push(AlertsConsumer, BudgetConsumer);
    return {
      module: NotifierModule,
      imports: [
        RuntimeModule.forRoot({
          service: 'notifier',
          logger: opts.logger,
          ...(opts.clock ? { clock: opts.clock } : {}),
          postgres: { url: config.databaseUrl, schema: config.dbSchema, migrations: notifierMigrations },
          nats: {
            url: config.natsUrl,
            auth: natsAuth(config),
            namespace: config.natsNamespace,
            streams: ['alerts', 'notify', 'cost', 'deadLetter'],
          },
        }),
        AccessModule.forRoot(accessOptions(config)),
      ],
      controllers: api ? [AlertmanagerApiController, NotifierApiController] : [],
      providers,
    };
  }
}
