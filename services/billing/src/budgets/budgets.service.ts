import { Inject, Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import {
  BUDGET_EXCEEDED_V1,
  BUDGET_FORECAST_V1,
  budgetExceededId,
  budgetForecastId,
  budgetSubject,
  cloudEvent,
  type BudgetExceededV1,
  type BudgetForecastV1,
} from '@arcwatch/contracts';
import { evaluateBudget, formatScaled, loadBudgets, periodBounds, type Budget, type UsagePoint } from '@arcwatch/cost';
import { enqueueOutbox, type OutboxEntry } from '@arcwatch/outbox';
import { BILLING_SOURCE } from '../allocation/allocation.service';
import { BILLING_CONFIG, type BillingConfig } from '../config';

type Db = Pick<PoolClient, 'query'>;
const HOUR_MS = 3_600_000;

/**
 * Budgets evaluated as windows close, inside the closing transaction: budget.exceeded once per
 * budget and period (the moment the allocated spend or tokens went over), budget.forecast once per
 * budget and hour of closed time (and at the first close). Each decision is recorded in
 * billing.budget_events, so a retry or a replica never publishes it twice.
 */
@Injectable()
export class BudgetsService {
  private readonly budgets: Budget[];

  constructor(@Inject(BILLING_CONFIG) private readonly config: BillingConfig) {
    this.budgets = config.budgetsFile ? loadBudgets(config.budgetsFile) : [];
  }

  list(): readonly Budget[] {
    return this.budgets;
  }

  async afterClose(db: Db, previousClosedMs: number | null, closedMs: number): Promise<void> {
    if (this.budgets.length === 0) return;
    const forecastAt =
      previousClosedMs === null || Math.floor(previousClosedMs / HOUR_MS) !== Math.floor(closedMs / HOUR_MS)
        ? closedMs
        : null;
    const entries: OutboxEntry[] = [];
    for (const b of this.budgets) {
      // Closing exactly at a period's end evaluates the period that just ended.
      const asOfMs = periodBounds(b.period, closedMs).startMs === closedMs ? closedMs - 1 : closedMs;
      const { startMs, endMs } = periodBounds(b.period, asOfMs);
      const usage = await this.usage(db, b, startMs, closedMs);
      const s = evaluateBudget(b, usage, asOfMs);
      const q = (v: bigint) => (b.unit === 'money' ? formatScaled(v, 6, 2) : v.toString());
      const ref = {
        budgetId: b.id,
        tenant: b.tenant,
        team: b.team,
        project: b.project,
        period: b.period,
        periodStart: new Date(startMs).toISOString(),
        periodEnd: new Date(endMs).toISOString(),
        unit: b.unit,
        currency: b.currency,
        limit: q(b.limit),
      };
      if (s.exceededAtMs !== null) {
        const id = budgetExceededId(b.id, ref.periodStart);
        if (await this.decide(db, id, closedMs)) {
          const data: BudgetExceededV1 = {
            ...ref,
            spent: q(s.spent),
            exceededAt: new Date(s.exceededAtMs).toISOString(),
          };
          entries.push({
            subject: budgetSubject('exceeded', b.tenant),
            event: cloudEvent({
              type: BUDGET_EXCEEDED_V1,
              source: BILLING_SOURCE,
              id,
              time: data.exceededAt,
              subject: b.tenant,
              data,
            }),
          });
        }
      }
      if (forecastAt !== null) {
        const asOf = new Date(forecastAt).toISOString();
        const id = budgetForecastId(b.id, ref.periodStart, asOf);
        if (await this.decide(db, id, closedMs)) {
          const data: BudgetForecastV1 = {
            ...ref,
            asOf,
            spent: q(s.spent),
            forecastLinear: q(s.forecastLinear),
            forecastSeasonal: q(s.forecastSeasonal),
            seasonalBasis: s.seasonalBasis,
            overLimit: s.forecastLinear > b.limit || s.forecastSeasonal > b.limit,
          };
          entries.push({
            subject: budgetSubject('forecast', b.tenant),
            event: cloudEvent({
              type: BUDGET_FORECAST_V1,
              source: BILLING_SOURCE,
              id,
              time: asOf,
              subject: b.tenant,
              data,
            }),
          });
        }
      }
    }
    await enqueueOutbox(db, this.config.dbSchema, entries);
  }

  private async decide(db: Db, eventId: string, atMs: number): Promise<boolean> {
    const { rowCount } = await db.query(
      `INSERT INTO ${this.config.dbSchema}.budget_events (event_id, decided_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [eventId, new Date(atMs)],
    );
    return (rowCount ?? 0) > 0;
  }

  /** Usage points of the budget's scope in [fromMs, toMs): money per window, tokens per request end. */
  private async usage(db: Db, b: Budget, fromMs: number, toMs: number): Promise<UsagePoint[]> {
    const s = this.config.dbSchema;
    if (b.unit === 'money') {
      const { rows } = await db.query<{ t: string; team: string; project: string; currency: string; micro: string }>(
        `SELECT (extract(epoch FROM window_start) * 1000)::bigint AS t, team, project, currency, sum(amount_micro)::text AS micro
         FROM ${s}.allocation_lines WHERE tenant = $1 AND window_start >= $2 AND window_start < $3 GROUP BY 1, 2, 3, 4`,
        [b.tenant, new Date(fromMs), new Date(toMs)],
      );
      return rows.map((r) => ({
        timeMs: Number(r.t),
        tenant: b.tenant,
        team: r.team,
        project: r.project,
        currency: r.currency,
        amountMicro: BigInt(r.micro),
        tokens: 0n,
      }));
    }
    const { rows } = await db.query<{ t: string; team: string; project: string; tokens: string }>(
      `SELECT end_ms AS t, team, project, (prompt_tokens + completion_tokens)::text AS tokens
       FROM ${s}.request_intervals WHERE tenant = $1 AND end_ms > $2 AND end_ms <= $3`,
      [b.tenant, fromMs, toMs],
    );
    return rows.map((r) => ({
      timeMs: Number(r.t),
      tenant: b.tenant,
      team: r.team,
      project: r.project,
      currency: '',
      amountMicro: 0n,
      tokens: BigInt(r.tokens),
    }));
  }
}
