import { z } from 'zod';
import { deterministicId } from '../cloudevents/envelope';
import { subjectToken } from '../subjects';
import { costAllocatedV1Schema, moneyStringSchema, type CostKey } from './cost-allocated.v1';

/**
 * The invoice's word on a period: the same key as cost.allocated, the amount scaled so that the
 * reconciled amounts of a resource and charge period add up to what the provider billed.
 * Supersedes the estimate with the same key (`supersedes` is that estimate's event id); a
 * consumer keeps the latest reconciliation per key as final. aw.cost.v1.reconciled.<tenant>,
 * type io.arcwatch.cost.reconciled.v1.
 */
export const COST_RECONCILED_V1 = 'io.arcwatch.cost.reconciled.v1';

export const costReconciledV1Schema = costAllocatedV1Schema.omit({ status: true }).extend({
  status: z.literal('final'),
  /** What cost.allocated said for this key. */
  estimateAmount: moneyStringSchema,
  /** The id of the cost.allocated event this one replaces. */
  supersedes: z.string().min(1),
  /** The invoice import the figures come from. */
  invoiceImportId: z.string().min(1),
});
export type CostReconciledV1 = z.infer<typeof costReconciledV1Schema>;

export function costReconciledSubject(tenant: string): string {
  return `aw.cost.v1.reconciled.${subjectToken(tenant)}`;
}

/** Same key and same invoice import → same id: a reimport of the same file publishes nothing new. */
export function costReconciledId(k: CostKey, invoiceImportId: string, amount: string): string {
  return deterministicId(
    COST_RECONCILED_V1,
    k.periodStart,
    k.periodEnd,
    k.tenant,
    k.team,
    k.project,
    k.model,
    k.modelVersion,
    k.apiKeyHash ?? '',
    k.kind,
    invoiceImportId,
    amount,
  );
}
