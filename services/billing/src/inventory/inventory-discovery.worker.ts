import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectClock, InjectLogger, PeriodicTask, type Clock, type Logger } from '@arcwatch/runtime';
import { BILLING_CONFIG, type BillingConfig } from '../config';
import { InventoryDiscoveryService } from './inventory-discovery.service';

/** Runs discovery every BILLING_DISCOVERY_INTERVAL_MS when BILLING_COLLECTOR_URL is set; a failed pass is logged and retried. */
@Injectable()
export class InventoryDiscoveryWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly task: PeriodicTask;

  constructor(
    @Inject(BILLING_CONFIG) config: BillingConfig,
    @InjectClock() clock: Clock,
    @InjectLogger() logger: Logger,
    private readonly discovery: InventoryDiscoveryService,
  ) {
    this.task = new PeriodicTask({
      name: 'billing-inventory-discovery',
      intervalMs: config.discoveryIntervalMs,
      clock,
      logger,
      run: async () => {
        await this.discovery.discoverOnce();
      },
    });
  }

  onApplicationBootstrap(): void {
    if (this.discovery.enabled) this.task.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }

  /** One pass; tests call it directly instead of waiting for the timer. */
  runOnce(): Promise<void> {
    return this.task.runNow();
  }
}
