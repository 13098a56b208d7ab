import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from '@nats-io/nats-core';
import {
  ALERT_CONTEXT_SUBJECTS,
  formatZodError,
  gpuCostRequestV1Schema,
  type GpuCostReplyV1,
} from '@arcwatch/contracts';
import { formatMicro, roundHalfEven } from '@arcwatch/cost';
import { EventBus } from '@arcwatch/messaging';
import { InjectClock, InjectLogger, type Clock, type Logger } from '@arcwatch/runtime';
import { BILLING_CONFIG, type BillingConfig } from '../config';
import { PricesService } from '../prices/prices.service';

/**
 * Answers the notifier's "what do the affected GPUs cost per hour" (aw.query.billing.gpu-cost,
 * core NATS request/reply, one queue group for all replicas): the GPUs named, else the
 * deployment's default GPUs per instance, priced at the catalog's rate in force now for the
 * default GPU model, provider, region and pricing kind. A malformed question gets `{ error }`.
 */
@Injectable()
export class GpuCostResponder implements OnApplicationBootstrap, OnModuleDestroy {
  private sub: Subscription | undefined;

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(BILLING_CONFIG) private readonly config: BillingConfig,
    private readonly prices: PricesService,
    @InjectClock() private readonly clock: Clock,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.sub = this.bus.nc.subscribe(this.bus.naming.toWire(ALERT_CONTEXT_SUBJECTS.gpuCost), {
      queue: 'billing',
      callback: (err, msg) => {
        if (err) return;
        let reply: GpuCostReplyV1 | { error: string };
        try {
          reply = this.answer(msg.json<unknown>());
        } catch (e) {
          this.logger.warn({ err: e }, 'gpu-cost question not answered');
          reply = { error: (e as Error).message };
        }
        msg.respond(JSON.stringify(reply));
      },
    });
  }

  onModuleDestroy(): void {
    this.sub?.unsubscribe();
  }

  answer(question: unknown): GpuCostReplyV1 | { error: string } {
    const q = gpuCostRequestV1Schema.safeParse(question);
    if (!q.success) return { error: formatZodError(q.error) };
    const gpus = q.data.gpus.length > 0 ? q.data.gpus.length : this.config.defaultGpus;
    const c = this.config;
    const entry = this.prices.current().lookup(
      {
        gpuModel: c.defaultGpuModel,
        provider: c.defaultProvider,
        region: c.defaultRegion,
        pricingKind: c.defaultPricingKind,
      },
      this.clock.now(),
    );
    const micro = roundHalfEven(entry.microPerGpuHour.num * BigInt(gpus), entry.microPerGpuHour.den);
    return { currency: entry.currency, perHour: formatMicro(micro), gpus };
  }
}
