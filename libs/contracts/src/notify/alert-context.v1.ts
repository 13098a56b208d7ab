import { z } from 'zod';

/**
 * Request/reply messages the notifier sends to put what an on-call engineer needs first into a
 * notification: the tenants an affected model instance is serving (tracing) and what the affected
 * GPUs cost per hour (billing). Core NATS request/reply on aw.query.<service>.<what>; the
 * notifier waits a short, fixed time and never holds a page for an answer.
 */
export const ALERT_CONTEXT_SUBJECTS = {
  affectedTenants: 'aw.query.tracing.affected-tenants',
  gpuCost: 'aw.query.billing.gpu-cost',
} as const;

export const affectedTenantsRequestV1Schema = z.object({
  /** Model instance (vLLM / SGLang server) named by the alert, when it names one. */
  instance: z.string().optional(),
  node: z.string().optional(),
  gpus: z.array(z.string()),
  /** Look-back window for "right now". */
  windowSeconds: z.number().int().positive(),
});
export type AffectedTenantsRequestV1 = z.infer<typeof affectedTenantsRequestV1Schema>;

export const affectedTenantsReplyV1Schema = z.object({
  tenants: z.array(
    z.object({ tenant: z.string(), requests: z.number().int().min(0), errors: z.number().int().min(0) }),
  ),
});
export type AffectedTenantsReplyV1 = z.infer<typeof affectedTenantsReplyV1Schema>;

export const gpuCostRequestV1Schema = z.object({
  node: z.string().optional(),
  gpus: z.array(z.string()),
  instance: z.string().optional(),
});
export type GpuCostRequestV1 = z.infer<typeof gpuCostRequestV1Schema>;

export const gpuCostReplyV1Schema = z.object({
  currency: z.string().length(3),
  /** Decimal string, e.g. "98.32": money is never a float on the wire. */
  perHour: z.string().regex(/^\d+(\.\d+)?$/),
  gpus: z.number().int().min(0),
});
export type GpuCostReplyV1 = z.infer<typeof gpuCostReplyV1Schema>;
