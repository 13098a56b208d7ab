import { z } from 'zod';
import { deterministicId } from '../cloudevents/envelope';
import { subjectToken } from '../subjects';

/**
 * Budget events: a tenant's (or team's, or project's) spend going over its limit for a period,
 * and where the period is heading. Alert rules and notifications consume them.
 * aw.cost.v1.budget.exceeded.<tenant> (io.arcwatch.cost.budget.exceeded.v1) and
 * aw.cost.v1.budget.forecast.<tenant> (io.arcwatch.cost.budget.forecast.v1).
 */
export const BUDGET_EXCEEDED_V1 = 'io.arcwatch.cost.budget.exceeded.v1';
export const BUDGET_FORECAST_V1 = 'io.arcwatch.cost.budget.forecast.v1';

const isoTime = z.iso.datetime({ offset: true });
/** Money as a decimal string, or a token count as an integer string: the budget's unit says which. */
const quantity = z.string().regex(/^-?\d+(\.\d{1,6})?$/);

const budgetRef = z.object({
  budgetId: z.string().min(1),
  tenant: z.string().min(1),
  team: z.string().nullable(),
  project: z.string().nullable(),
  period: z.enum(['day', 'month']),
  periodStart: isoTime,
  periodEnd: isoTime,
  unit: z.enum(['money', 'tokens']),
  /** Set for money budgets. */
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .nullable(),
  limit: quantity,
});

export const budgetExceededV1Schema = budgetRef.extend({
  spent: quantity,
  /** When the spend went over the limit. */
  exceededAt: isoTime,
});
export type BudgetExceededV1 = z.infer<typeof budgetExceededV1Schema>;

export const budgetForecastV1Schema = budgetRef.extend({
  asOf: isoTime,
  spent: quantity,
  forecastLinear: quantity,
  forecastSeasonal: quantity,
  seasonalBasis: z.enum(['day-of-week', 'linear']),
  /** True when either forecast ends the period over the limit. */
  overLimit: z.boolean(),
});
export type BudgetForecastV1 = z.infer<typeof budgetForecastV1Schema>;

export function budgetSubject(kind: 'exceeded' | 'forecast', tenant: string): string {
  return `aw.cost.v1.budget.${kind}.${subjectToken(tenant)}`;
}

/** One exceeded event per budget and period. */
export function budgetExceededId(budgetId: string, periodStart: string): string {
  return deterministicId(BUDGET_EXCEEDED_V1, budgetId, periodStart);
}

/** One forecast per budget, period and as-of time. */
export function budgetForecastId(budgetId: string, periodStart: string, asOf: string): string {
  return deterministicId(BUDGET_FORECAST_V1, budgetId, periodStart, asOf);
}
