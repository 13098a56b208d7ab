import { Module, type DynamicModule } from '@nestjs/common';
import { AccessModule, accessOptions } from '@arcwatch/access';
import { RuntimeModule, type Clock, type Logger, natsAuth } from '@arcwatch/runtime';
import { ANOMALY_CONFIG, type AnomalyConfig } from './config';
import { anomalyMigrations } from './database/anomaly.migrations';
import { DetectorsService } from './detectors/detectors.service';
import { AnomalyMetrics } from './metrics';
import { anomalyOutboxRelayProvider } from './outbox.provider';
import { AlertStateRepository } from './rules/alert-state.repository';
import { MetricsStreamConsumer } from './rules/metrics-stream.consumer';
import { RulesController } from './rules/rules.controller';
import { RuleFilesResponder } from './rules/rule-files.responder';
import { RulesService } from './rules/rules.service';

export interface AnomalyModuleOptions {
  config: AnomalyConfig;
  logger: Logger;
  clock?: Clock;
}

@Module({})
export class AnomalyModule {
  static forRoot(opts: AnomalyModuleOptions): DynamicModule {
    const { config } = opts;
    return {
      module: AnomalyModule,
      imports: [
        RuntimeModule.forRoot({
          service: 'anomaly',
          logger: opts.logger,
          ...(opts.clock ? { clock: opts.clock } : {}),
          postgres: { url: config.databaseUrl, schema: config.dbSchema, migrations: anomalyMigrations },
          nats: {
            url: config.natsUrl,
            auth: natsAuth(config),
            namespace: config.natsNamespace,
            replicas: config.natsStreamReplicas,
            streams: ['metrics', 'alerts', 'deadLetter'],
          },
        }),
        AccessModule.forRoot(accessOptions(config)),
      ],
      controllers: [RulesController],
      providers: [
        { provide: ANOMALY_CONFIG, useValue: config },
        AnomalyMetrics,
        anomalyOutboxRelayProvider,
        AlertStateRepository,
        RulesService,
        DetectorsService,
        MetricsStreamConsumer,
        RuleFilesResponder,
      ],
    };
  }
}
