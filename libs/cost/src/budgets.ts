import { ConfigFileError, parseYamlConfig, readConfigText } from '@arcwatch/config-files';
import { z } from 'zod';
import { parseMicro } from './money';

/**
 * Budgets and quotas: a limit per tenant (optionally narrowed to a team or project) and period, in
 * money (micro-units of one currency) or in tokens. Evaluated over usage points: when the spend
 * went over the limit, and where the period is heading — a linear forecast (spend so far over
 * elapsed time) and a day-of-week one (each remaining day costs what that weekday cost on
 * average), for the month-end alerting that anomaly rules and notifications use.
 */
export const BUDGET_PERIODS = ['day', 'month'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

const DAY_MS = 86_400_000;

export const budgetSchema = z
  .strictObject({
    id: z.string().regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, _ and - only'),
    tenant: z.string().min(1),
    team: z.string().min(1).optional(),
    project: z.string().min(1).optional(),
    period: z.enum(BUDGET_PERIODS).default('month'),
    money: z
      .string()
      .regex(/^\d+(\.\d{1,6})?$/, 'a decimal amount with at most 6 decimals')
      .optional(),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/)
      .optional(),
    tokens: z.number().int().positive().optional(),
  })
  .superRefine((b, ctx) => {
    if ((b.money === undefined) === (b.tokens === undefined))
      ctx.addIssue({ code: 'custom', message: 'give money (with currency) or tokens' });
    if (b.money !== undefined && b.currency === undefined)
      ctx.addIssue({ code: 'custom', path: ['currency'], message: 'required with money' });
  });
export type BudgetInput = z.infer<typeof budgetSchema>;
export const budgetsFileSchema = z.strictObject({ budgets: z.array(budgetSchema) });

export interface Budget {
  id: string;
  tenant: string;
  team: string | null;
  project: string | null;
  period: BudgetPeriod;
  /** What is counted: micro-units of `currency`, or tokens (input + output). */
  unit: 'money' | 'tokens';
  currency: string | null;
  limit: bigint;
}

export function toBudget(b: BudgetInput): Budget {
  return {
    id: b.id,
    tenant: b.tenant,
    team: b.team ?? null,
    project: b.project ?? null,
    period: b.period,
    unit: b.money !== undefined ? 'money' : 'tokens',
    currency: b.currency ?? null,
    limit: b.money !== undefined ? parseMicro(b.money) : BigInt(b.tokens ?? 0),
  };
}

export function parseBudgets(text: string, file: string): Budget[] {
  const { value, source } = parseYamlConfig(text, file, budgetsFileSchema);
  const seen = new Set<string>();
  const issues = value.budgets.flatMap((b, i) => {
    if (seen.has(b.id)) return [source.issue(['budgets', i, 'id'], `duplicate budget id ${b.id}`)];
    seen.add(b.id);
    return [];
  });
  if (issues.length > 0) throw new ConfigFileError(issues);
  return value.budgets.map(toBudget);
}

export function loadBudgets(file: string): Budget[] {
  return parseBudgets(readConfigText(file), file);
}

export interface UsagePoint {
  timeMs: number;
  tenant: string;
  team: string;
  project: string;
  currency: string;
  amountMicro: bigint;
  tokens: bigint;
}

export interface BudgetStatus {
  budget: Budget;
  periodStartMs: number;
  periodEndMs: number;
  asOfMs: number;
  spent: bigint;
  /** The time of the usage point that took the spend over the limit; null while within. */
  exceededAtMs: number | null;
  forecastLinear: bigint;
  forecastSeasonal: bigint;
  /** Which way the seasonal forecast went: by weekday, or linear when no whole day was seen yet. */
  seasonalBasis: 'day-of-week' | 'linear';
}

export function periodBounds(period: BudgetPeriod, timeMs: number): { startMs: number; endMs: number } {
  const d = new Date(timeMs);
  if (period === 'day') {
    const startMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    return { startMs, endMs: startMs + DAY_MS };
  }
  return {
    startMs: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
    endMs: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
  };
}

function applies(b: Budget, u: UsagePoint): boolean {
  if (u.tenant !== b.tenant) return false;
  if (b.team !== null && u.team !== b.team) return false;
  if (b.project !== null && u.project !== b.project) return false;
  return b.unit === 'tokens' || u.currency === b.currency;
}

function valueOf(b: Budget, u: UsagePoint): bigint {
  return b.unit === 'money' ? u.amountMicro : u.tokens;
}

/**
 * A budget's state at `asOfMs` over the usage points (any order; points after asOfMs ignored).
 * `history` may hold earlier points of the same scope: they teach the day-of-week forecast what
 * each weekday costs when the period is young.
 */
export function evaluateBudget(
  b: Budget,
  usage: readonly UsagePoint[],
  asOfMs: number,
  history: readonly UsagePoint[] = [],
): BudgetStatus {
  const { startMs, endMs } = periodBounds(b.period, asOfMs);
  const points = usage
    .filter((u) => applies(b, u) && u.timeMs >= startMs && u.timeMs <= asOfMs)
    .sort((x, y) => x.timeMs - y.timeMs);
  let spent = 0n;
  let exceededAtMs: number | null = null;
  for (const p of points) {
    spent += valueOf(b, p);
    if (exceededAtMs === null && spent > b.limit) exceededAtMs = p.timeMs;
  }
  const elapsed = BigInt(Math.max(1, asOfMs - startMs));
  const length = BigInt(endMs - startMs);
  const forecastLinear = (spent * length) / elapsed;

  // Day-of-week means from whole UTC days before today: this period's and the history's.
  const todayStart = Math.floor(asOfMs / DAY_MS) * DAY_MS;
  const perDay = new Map<number, bigint>();
  for (const p of [...history.filter((h) => applies(b, h)), ...points]) {
    if (p.timeMs >= todayStart) continue;
    const day = Math.floor(p.timeMs / DAY_MS);
    perDay.set(day, (perDay.get(day) ?? 0n) + valueOf(b, p));
  }
  if (perDay.size === 0 || asOfMs >= endMs) {
    return {
      budget: b,
      periodStartMs: startMs,
      periodEndMs: endMs,
      asOfMs,
      spent,
      exceededAtMs,
      forecastLinear,
      forecastSeasonal: forecastLinear,
      seasonalBasis: 'linear',
    };
  }
  // Days inside the span of observed days with no usage count as zero-spend days.
  const first = Math.min(...perDay.keys());
  const last = Math.floor(todayStart / DAY_MS) - 1;
  const sum = new Array<bigint>(7).fill(0n);
  const count = new Array<bigint>(7).fill(0n);
  for (let day = first; day <= last; day++) {
    const dow = new Date(day * DAY_MS).getUTCDay();
    sum[dow] = (sum[dow] as bigint) + (perDay.get(day) ?? 0n);
    count[dow] = (count[dow] as bigint) + 1n;
  }
  let allSum = 0n;
  let allCount = 0n;
  for (let i = 0; i < 7; i++) {
    allSum += sum[i] as bigint;
    allCount += count[i] as bigint;
  }
  const mean = (dow: number): { num: bigint; den: bigint } =>
    (count[dow] as bigint) > 0n
      ? { num: sum[dow] as bigint, den: count[dow] as bigint }
      : { num: allSum, den: allCount };
  // Today: what is left of it at today's weekday rate; then every remaining whole day.
  let forecast = spent;
  const todayEnd = Math.min(todayStart + DAY_MS, endMs);
  const m0 = mean(new Date(todayStart).getUTCDay());
  forecast += (m0.num * BigInt(todayEnd - asOfMs)) / (m0.den * BigInt(DAY_MS));
  for (let day = todayStart + DAY_MS; day < endMs; day += DAY_MS) {
    const m = mean(new Date(day).getUTCDay());
    forecast += m.num / m.den;
  }
  return {
    budget: b,
    periodStartMs: startMs,
    periodEndMs: endMs,
    asOfMs,
    spent,
    exceededAtMs,
    forecastLinear,
    forecastSeasonal: forecast,
    seasonalBasis: 'day-of-week',
  };
}
