import type { PublicEvent } from '../catalog/public-event';
import { BUDGET_EXCEEDED_V1, BUDGET_FORECAST_V1, budgetExceededV1Schema, budgetForecastV1Schema } from './budget.v1';
import { COST_ALLOCATED_V1, costAllocatedV1Schema } from './cost-allocated.v1';
import { COST_RECONCILED_V1, costReconciledV1Schema } from './cost-reconciled.v1';

export const COST_EVENTS: PublicEvent[] = [
  {
    type: COST_ALLOCATED_V1,
    title: 'Cost allocated (estimate)',
    description:
      'GPU cost of one period attributed to a tenant, team, project, model, model version and API key hash: amount (decimal string) and currency, input and output tokens, GPU-seconds, request count and the allocation method. Idle time kept apart comes with kind `idle` under the pool owner; requests without a tenant under `unattributed`.',
    stream: 'cost',
    subject: 'aw.cost.v1.allocated.{tenant}',
    subjectTokens: { tenant: 'the tenant charged, `unattributed`, or the pool owner for idle time' },
    schema: costAllocatedV1Schema,
    publishers: ['billing'],
    consumers: ['billing systems', 'anomaly (budgets)', 'console'],
    idPromise:
      'derived from the period, the key (tenant, team, project, model, model version, API key hash, kind) and the method: a replay publishes the same ids and bytes',
    ordering: 'per tenant, periods in time order',
  },
  {
    type: COST_RECONCILED_V1,
    title: 'Cost reconciled (final)',
    description:
      'The same key as cost.allocated with the amount scaled to the imported invoice (FOCUS), so that a resource and charge period add up to the billed amount to the micro-unit. Supersedes the estimate named in `supersedes`; status `final`.',
    stream: 'cost',
    subject: 'aw.cost.v1.reconciled.{tenant}',
    subjectTokens: { tenant: 'the tenant charged, `unattributed`, or the pool owner for idle time' },
    schema: costReconciledV1Schema,
    publishers: ['billing'],
    consumers: ['billing systems', 'console'],
    idPromise:
      'derived from the key, the invoice import and the amount: re-importing the same invoice publishes nothing new',
    ordering: 'none needed: the latest reconciliation per key is final',
  },
  {
    type: BUDGET_EXCEEDED_V1,
    title: 'Budget exceeded',
    description:
      'A budget (money or tokens, per tenant, team or project, per day or month) went over its limit in the period.',
    stream: 'cost',
    subject: 'aw.cost.v1.budget.exceeded.{tenant}',
    subjectTokens: { tenant: 'the tenant the budget belongs to' },
    schema: budgetExceededV1Schema,
    publishers: ['billing'],
    consumers: ['anomaly', 'notifier', 'console'],
    idPromise: 'derived from the budget id and the period start: one event per budget and period',
    ordering: 'none needed',
  },
  {
    type: BUDGET_FORECAST_V1,
    title: 'Budget forecast',
    description:
      'Where a budget is heading by the end of its period: the spend so far, a linear and a day-of-week forecast, and whether either ends over the limit.',
    stream: 'cost',
    subject: 'aw.cost.v1.budget.forecast.{tenant}',
    subjectTokens: { tenant: 'the tenant the budget belongs to' },
    schema: budgetForecastV1Schema,
    publishers: ['billing'],
    consumers: ['anomaly', 'console'],
    idPromise: 'derived from the budget id, the period start and the as-of time',
    ordering: 'per budget, in as-of order',
  },
];
