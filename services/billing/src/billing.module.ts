import { Module, type DynamicModule } from '@nestjs/common';
import { AccessModule, accessOptions } from '@arcwatch/access';
import { RuntimeModule, type Clock, type Logger, natsAuth } from '@arcwatch/runtime';
import { AllocationConsumer } from './allocation/allocation.consumer';
import { AllocationService } from './allocation/allocation.service';
import { AllocationWorker } from './allocation/allocation.worker';
import { BudgetsService } from './budgets/budgets.service';
import { BILLING_CONFIG, type BillingConfig } from './config';
import { billingMigrations } from './database/billing.migrations';
import { InventoryDiscoveryService } from './inventory/inventory-discovery.service';
import { InventoryDiscoveryWorker } from './inventory/inventory-discovery.worker';
import { InvoicesController } from './invoices/invoices.controller';
import { InvoicesService } from './invoices/invoices.service';
import { BillingMetrics } from './metrics';
import { billingOutboxRelayProvider } from './outbox.provider';
import { PriceFilesResponder } from './prices/price-files.responder';
import { PricesController } from './prices/prices.controller';
import { PricesService } from './prices/prices.service';
import { GpuCostResponder } from './context/gpu-cost.responder';
import { ReportsController } from './reports/reports.controller';
import { ReportsService } from './reports/reports.service';

export interface BillingModuleOptions {
  config: BillingConfig;
  logger: Logger;
  clock?: Clock;
  /** Tests drive passes themselves (AllocationWorker.runOnce) instead of the timer. */
  disableWorkerTimer?: boolean;
}

@Module({})
export class BillingModule {
  static forRoot(opts: BillingModuleOptions): DynamicModule {
    const { config } = opts;
    return {
      module: BillingModule,
      imports: [
        RuntimeModule.forRoot({
          service: 'billing',
          logger: opts.logger,
          ...(opts.clock ? { clock: opts.clock } : {}),
          postgres: { url: config.databaseUrl, schema: config.dbSchema, migrations: billingMigrations },
          nats: {
            url: config.natsUrl,
            auth: natsAuth(config),
            namespace: config.natsNamespace,
            replicas: config.natsStreamReplicas,
            streams: ['requests', 'cost', 'deadLetter'],
          },
        }),
        AccessModule.forRoot(accessOptions(config)),
      ],
      controllers: [PricesController, InvoicesController, ReportsController],
      providers: [
        {
          provide: BILLING_CONFIG,
          useValue: opts.disableWorkerTimer
            ? { ...config, workerIntervalMs: 2 ** 31 - 1, discoveryIntervalMs: 2 ** 31 - 1 }
            : config,
        },
        BillingMetrics,
        billingOutboxRelayProvider,
        PricesService,
        GpuCostResponder,
        PriceFilesResponder,
        BudgetsService,
        AllocationService,
        AllocationWorker,
        AllocationConsumer,
        InventoryDiscoveryService,
        InventoryDiscoveryWorker,
        InvoicesService,
        ReportsService,
      ],
    };
  }
}
