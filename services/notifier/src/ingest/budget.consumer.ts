import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EventBus, PoisonMessageError, RetryableError, type ConsumerHandle } from '@arcwatch/messaging';
import {
  BUDGET_EXCEEDED_V1,
  alertFingerprint,
  budgetExceededV1Schema,
  parseCloudEvent,
  type AlertV1,
  type BudgetExceededV1,
} from '@arcwatch/contracts';
import { AlertsService } from '../alerts/alerts.service';

export const BUDGETS_DURABLE = 'notifier-budgets';
export const BUDGET_EXCEEDED_ALL = 'aw.cost.v1.budget.exceeded.>';

/**
 * A budget gone over (billing's io.arcwatch.cost.budget.exceeded.v1) as the alert
 * `BudgetExceeded{tenant, budget, period, severity="P2"}`, so routing, grouping, silences and
 * receivers treat it as any other alert. The fingerprint is the label set's and includes the
 * period's start, so a new day (or month) over budget is a new alert and a replayed event the
 * same one. It ends with its period: billing tells only of a budget going over, once per period (no
 * event says a spend went back under: allocated spend only adds up as windows close), and at the
 * period's end the spend starts again from zero, so the alert carries the period's end as its endsAt (Alertmanager's
 * meaning: firing until then) and resolves by itself, with a resolved notification, then.
 */
export function budgetAlert(b: BudgetExceededV1): AlertV1 {
  const labels: Record<string, string> = {
    alertname: 'BudgetExceeded',
    severity: 'P2',
    tenant: b.tenant,
    budget: b.budgetId,
    period: b.period,
    period_start: b.periodStart,
    ...(b.team === null ? {} : { budget_team: b.team }),
    ...(b.project === null ? {} : { project: b.project }),
  };
  const unit = b.unit === 'money' ? (b.currency ?? '') : 'tokens';
  return {
    fingerprint: alertFingerprint(labels),
    status: 'firing',
    labels,
    annotations: {
      summary: `${b.tenant} is over its ${b.period} budget ${b.budgetId}: ${b.spent} of ${b.limit} ${unit}`.trim(),
      description: `Spend went over the limit at ${b.exceededAt}; the period ends ${b.periodEnd}.`,
    },
    startsAt: b.exceededAt,
    endsAt: b.periodEnd,
    generatorURL: '',
    value: Number(b.spent),
    origin: { kind: 'rule', group: 'billing', name: 'BudgetExceeded' },
    flapping: false,
  };
}

/** aw.cost.v1.budget.exceeded.> into the alert store, acked after the row is committed. */
@Injectable()
export class BudgetConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(BudgetConsumer.name);
  private handle: ConsumerHandle | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly alerts: AlertsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.handle = await this.bus.consume({
      stream: 'cost',
      durable: BUDGETS_DURABLE,
      filterSubject: BUDGET_EXCEEDED_ALL,
      handler: async (msg) => {
        const parsed = parseCloudEvent(msg.data, BUDGET_EXCEEDED_V1, budgetExceededV1Schema);
        if (!parsed.ok) throw new PoisonMessageError(`${msg.subject}#${msg.seq}: ${parsed.reason}`);
        const alert = budgetAlert(parsed.event.data);
        try {
          await this.alerts.fromEvents([alert]);
        } catch (err) {
          throw new RetryableError(`storing alert ${alert.fingerprint}: ${(err as Error).message}`, undefined, {
            cause: err,
          });
        }
      },
    });
    this.logger.log(`consuming ${BUDGET_EXCEEDED_ALL} as ${BUDGETS_DURABLE}`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.handle?.stop();
  }
}
