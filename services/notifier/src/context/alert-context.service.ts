import { Inject, Injectable } from '@nestjs/common';
import {
  ALERT_CONTEXT_SUBJECTS,
  affectedTenantsReplyV1Schema,
  gpuCostReplyV1Schema,
  type AffectedTenantsRequestV1,
  type GpuCostRequestV1,
} from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import type { z } from 'zod';
import type { StoredAlert } from '../alerts/alerts.repository';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';

export interface AlertContext {
  tenants?: { tenant: string; requests: number; errors: number }[];
  cost?: { currency: string; perHour: string; gpus: number };
}

/** The label names that carry an alert's model instance, node and GPUs (Prometheus, dcgm-exporter, vLLM). */
export function alertTargets(labels: Record<string, string>): { instance?: string; node?: string; gpus: string[] } {
  const gpus = [labels.UUID, labels.gpu_uuid, labels.gpu].filter((g): g is string => typeof g === 'string' && g !== '');
  return {
    instance: labels.model_instance ?? labels.engine_instance ?? labels.instance,
    node: labels.Hostname ?? labels.node ?? labels.hostname,
    gpus: [...new Set(gpus)],
  };
}

/** The annotations a notification gets from its context (shown by every channel's default text). */
export function contextAnnotations(
  fingerprint: string,
  ctx: AlertContext | undefined,
  consoleUrl: string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (ctx?.tenants && ctx.tenants.length > 0) {
    out.arcwatch_affected_tenants = ctx.tenants
      .slice(0, 5)
      .map((t) => `${t.tenant} (${t.requests} requests, ${t.errors} errors)`)
      .join(', ');
  }
  if (ctx?.cost) out.arcwatch_gpu_cost_per_hour = `${ctx.cost.perHour} ${ctx.cost.currency} (${ctx.cost.gpus} GPUs)`;
  if (consoleUrl) out.arcwatch_console = `${consoleUrl.replace(/\/$/, '')}/alerts/${fingerprint}`;
  return out;
}

/**
 * Asks tracing and billing about an alert when it starts firing, in the background, and keeps the
 * answers for the notifications that follow. Nothing waits for it: a page goes out with whatever
 * context has arrived by then (group_wait usually gives the answers time), so a slow or missing
 * answer never delays a page.
 */
@Injectable()
export class AlertContextService {
  private readonly cache = new Map<string, AlertContext>();
  private readonly asked = new Set<string>();

  constructor(
    private readonly bus: EventBus,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
  ) {}

  prefetch(a: StoredAlert): void {
    const key = `${a.fingerprint}:${a.startsAt.toISOString()}`;
    if (this.asked.has(key) || this.config.contextTimeoutMs === 0) return;
    this.asked.add(key);
    if (this.asked.size > 50_000) this.asked.clear();
    void this.fetch(a).then((ctx) => {
      this.cache.set(a.fingerprint, ctx);
      if (this.cache.size > 50_000) this.cache.delete(this.cache.keys().next().value as string);
    });
  }

  annotations(a: Pick<StoredAlert, 'fingerprint'>): Record<string, string> {
    return contextAnnotations(a.fingerprint, this.cache.get(a.fingerprint), this.config.consoleUrl);
  }

  private async fetch(a: StoredAlert): Promise<AlertContext> {
    const t = alertTargets(a.labels);
    if (!t.instance && !t.node && t.gpus.length === 0) return {};
    const tenantsReq: AffectedTenantsRequestV1 = { ...t, windowSeconds: 300 };
    const costReq: GpuCostRequestV1 = t;
    const [tenants, cost] = await Promise.all([
      this.ask(ALERT_CONTEXT_SUBJECTS.affectedTenants, tenantsReq, affectedTenantsReplyV1Schema),
      this.ask(ALERT_CONTEXT_SUBJECTS.gpuCost, costReq, gpuCostReplyV1Schema),
    ]);
    return { tenants: tenants?.tenants, cost: cost ?? undefined };
  }

  private async ask<S extends z.ZodType>(subject: string, body: unknown, schema: S): Promise<z.infer<S> | undefined> {
    try {
      const msg = await this.bus.nc.request(this.bus.naming.toWire(subject), JSON.stringify(body), {
        timeout: this.config.contextTimeoutMs,
      });
      const parsed = schema.safeParse(msg.json());
      return parsed.success ? parsed.data : undefined;
    } catch {
      // No responder, a timeout or a bad answer: the notification simply goes without it.
      return undefined;
    }
  }
}
