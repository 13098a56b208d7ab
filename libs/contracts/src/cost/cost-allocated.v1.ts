import { z } from 'zod';
import { deterministicId } from '../cloudevents/envelope';
import { apiKeyHashSchema } from '../requests/request-event.v1';
import { subjectToken } from '../subjects';

/**
 * Attributed GPU cost for one period and one (tenant, team, project, model, model version, API
 * key hash): the estimate billing publishes as soon as the period's allocation windows close.
 * aw.cost.v1.allocated.<tenant>, CloudEvents type io.arcwatch.cost.allocated.v1. Idle time kept
 * apart is published with kind `idle` under the pool owner's tenant; requests without a known
 * tenant under the tenant `unattributed`.
 */
export const COST_ALLOCATED_V1 = 'io.arcwatch.cost.allocated.v1';
export const COST_ALLOCATION_METHODS = ['time-share', 'tokens'] as const;
export const COST_KINDS = ['requests', 'idle', 'unattributed'] as const;

const isoTime = z.iso.datetime({ offset: true });
/** Money on the wire: a decimal string of the currency, at most 6 decimals (micro-units). */
export const moneyStringSchema = z.string().regex(/^-?\d+\.\d{2,6}$/, 'a decimal amount, 2 to 6 decimals');

export const costKeySchema = z.object({
  periodStart: isoTime,
  periodEnd: isoTime,
  tenant: z.string().min(1),
  team: z.string(),
  project: z.string(),
  model: z.string(),
  modelVersion: z.string(),
  apiKeyHash: apiKeyHashSchema.nullable(),
  kind: z.enum(COST_KINDS),
});
export type CostKey = z.infer<typeof costKeySchema>;

export const costAllocatedV1Schema = costKeySchema.extend({
  amount: moneyStringSchema,
  currency: z.string().regex(/^[A-Z]{3}$/),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  /** GPU time the amount stands for (GPU count × seconds, shared time divided). */
  gpuSeconds: z.number().nonnegative(),
  requestCount: z.number().int().nonnegative(),
  method: z.enum(COST_ALLOCATION_METHODS),
  idlePolicy: z.enum(['separate', 'shared']),
  /** Always `estimate` here; the invoice's word comes as cost.reconciled. */
  status: z.literal('estimate'),
});
export type CostAllocatedV1 = z.infer<typeof costAllocatedV1Schema>;

export function costAllocatedSubject(tenant: string): string {
  return `aw.cost.v1.allocated.${subjectToken(tenant)}`;
}

function keyParts(k: CostKey): string[] {
  return [k.periodStart, k.periodEnd, k.tenant, k.team, k.project, k.model, k.modelVersion, k.apiKeyHash ?? '', k.kind];
}

/** One id per period and key: the same allocation computed again (replay, restart) is the same event. */
export function costAllocatedId(k: CostKey, method: string): string {
  return deterministicId(COST_ALLOCATED_V1, ...keyParts(k), method);
}

export function costKeyId(k: CostKey): string {
  return deterministicId('cost-key', ...keyParts(k));
}
