import { Module, type DynamicModule } from '@nestjs/common';
import { AccessModule } from '@arcwatch/access';
import { RuntimeModule, type Clock, type Logger } from '@arcwatch/runtime';
import { AlertsController } from './alerts/alerts.controller';
import { AlertsService } from './alerts/alerts.service';
import { CONSOLE_CONFIG, type ConsoleConfig } from './config';
import { ConfigFilesClient } from './configuration/config-files.client';
import { ConfigurationController } from './configuration/configuration.controller';
import { ConfigurationService } from './configuration/configuration.service';
import { CostsController } from './costs/costs.controller';
import { CostsService } from './costs/costs.service';
import { EventsController } from './events/events.controller';
import { EventsService } from './events/events.service';
import { FleetController } from './fleet/fleet.controller';
import { FleetService } from './fleet/fleet.service';
import { InstancesController } from './instances/instances.controller';
import { InstancesService } from './instances/instances.service';
import { ConsoleMetrics } from './metrics';
import { RequestsController } from './requests/requests.controller';
import { RequestsService } from './requests/requests.service';
import { ADMIN_TOKEN_SINK, BootstrapAdmin, type AdminTokenSink } from './session/bootstrap-admin';
import { SessionController } from './session/session.controller';
import { UpstreamClient } from './upstream/upstream.client';

export interface ConsoleModuleOptions {
  config: ConsoleConfig;
  logger: Logger;
  clock?: Clock;
  printAdminToken?: AdminTokenSink;
}

@Module({})
export class ConsoleModule {
  static forRoot(opts: ConsoleModuleOptions): DynamicModule {
    const { config } = opts;
    return {
      module: ConsoleModule,
      imports: [
        // PostgreSQL holds the token store only (schema `access`); the console keeps no data of its own.
        RuntimeModule.forRoot({
          service: 'console',
          logger: opts.logger,
          ...(opts.clock ? { clock: opts.clock } : {}),
          postgres: { url: config.databaseUrl, schema: config.dbSchema, migrations: [], poolSize: 4 },
        }),
        AccessModule.forRoot({
          schema: config.accessSchema,
          sessionTtlMs: Math.round(config.sessionTtlHours * 3_600_000),
        }),
      ],
      controllers: [
        SessionController,
        FleetController,
        InstancesController,
        RequestsController,
        CostsController,
        AlertsController,
        ConfigurationController,
        EventsController,
      ],
      providers: [
        { provide: CONSOLE_CONFIG, useValue: config },
        {
          provide: ADMIN_TOKEN_SINK,
          useValue: opts.printAdminToken ?? ((line: string) => void process.stdout.write(line)),
        },
        ConsoleMetrics,
        UpstreamClient,
        BootstrapAdmin,
        FleetService,
        InstancesService,
        RequestsService,
        CostsService,
        AlertsService,
        ConfigurationService,
        ConfigFilesClient,
        EventsService,
      ],
    };
  }
}
