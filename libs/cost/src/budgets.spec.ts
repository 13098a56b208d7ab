import { ConfigFileError } from '@arcwatch/config-files';
import { evaluateBudget, parseBudgets, type UsagePoint } from './budgets';

const budgets = parseBudgets(
  `budgets:
  - { id: acme-monthly, tenant: acme, money: "1000", currency: USD }
  - { id: acme-search-tokens, tenant: acme, project: search, period: day, tokens: 1000000 }
`,
  'budgets.yaml',
);

function usage(iso: string, usd: number, tokens = 0, project = 'search'): UsagePoint {
  return {
    timeMs: Date.parse(iso),
    tenant: 'acme',
    team: 'ml',
    project,
    currency: 'USD',
    amountMicro: BigInt(usd) * 1_000_000n,
    tokens: BigInt(tokens),
  };
}

describe('budgets', () => {
  it('reads money and token budgets; a bad one names file, line and field', () => {
    expect(budgets.map((b) => [b.id, b.unit, b.limit, b.period, b.project])).toEqual([
      ['acme-monthly', 'money', 1_000_000_000n, 'month', null],
      ['acme-search-tokens', 'tokens', 1_000_000n, 'day', 'search'],
    ]);
    expect(() => parseBudgets('budgets:\n  - { id: x, tenant: a, money: "5" }\n', 'b.yaml')).toThrow(ConfigFileError);
    expect(() => parseBudgets('budgets:\n  - { id: x, tenant: a, money: "5" }\n', 'b.yaml')).toThrow(
      'b.yaml:2:5: budgets[0].currency: required with money',
    );
  });

  it('says when the spend went over and forecasts the month linearly', () => {
    // June 2026: 30 days. 100 USD a day from the 1st to the 10th; at the end of the 10th, 1000 spent.
    const points = Array.from({ length: 11 }, (_, i) =>
      usage(`2026-06-${String(i + 1).padStart(2, '0')}T12:00:00Z`, 100),
    );
    const s = evaluateBudget(budgets[0]!, points, Date.parse('2026-06-11T00:00:00Z'));
    expect(s.spent).toBe(1_000_000_000n);
    expect(s.exceededAtMs).toBeNull();
    // 1000 over 10 of 30 days → 3000.
    expect(s.forecastLinear).toBe(3_000_000_000n);
    const later = evaluateBudget(budgets[0]!, points, Date.parse('2026-06-11T12:00:00Z'));
    expect(later.spent).toBe(1_100_000_000n);
    expect(later.exceededAtMs).toBe(Date.parse('2026-06-11T12:00:00Z'));
  });

  it('forecasts by day of week: quiet weekends pull the month end down', () => {
    // March 2026 starts on a Sunday. Weekdays cost 100, weekends 10; as of Sat 14 March 00:00
    // (13 whole days: Sun 1, Mon–Fri 2–6, Sat 7, Sun 8, Mon–Fri 9–13 = 10 weekdays, 3 weekend
    // days) spent = 1000 + 30 = 1030.
    const points: UsagePoint[] = [];
    for (let d = 1; d <= 13; d++) {
      const day = new Date(Date.UTC(2026, 2, d)).getUTCDay();
      points.push(usage(`2026-03-${String(d).padStart(2, '0')}T08:00:00Z`, day === 0 || day === 6 ? 10 : 100));
    }
    const s = evaluateBudget(budgets[0]!, points, Date.parse('2026-03-14T00:00:00Z'));
    expect(s.spent).toBe(1_030_000_000n);
    expect(s.seasonalBasis).toBe('day-of-week');
    // Remaining 14–31 March, 18 days: weekend 14, 15, 21, 22, 28, 29 (6) and 12 weekdays
    // → 1030 + 12·100 + 6·10 = 2290.
    expect(s.forecastSeasonal).toBe(2_290_000_000n);
    // Linear: 1030 over 13 of 31 days → 1030·31/13 = 2456.153846…
    expect(s.forecastLinear).toBe(2_456_153_846n);
  });

  it('counts tokens of the scope only, per day', () => {
    const pts = [
      usage('2026-06-02T01:00:00Z', 0, 600_000),
      usage('2026-06-02T02:00:00Z', 0, 300_000, 'other'),
      usage('2026-06-02T03:00:00Z', 0, 500_000),
    ];
    const s = evaluateBudget(budgets[1]!, pts, Date.parse('2026-06-02T06:00:00Z'));
    expect(s.spent).toBe(1_100_000n);
    expect(s.exceededAtMs).toBe(Date.parse('2026-06-02T03:00:00Z'));
    // 1.1M tokens in 6 h → 4.4M for the day.
    expect(s.forecastLinear).toBe(4_400_000n);
  });
});
